import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../lib/logger.ts';
import { ServiceUnavailableError } from '../openai/errors.ts';
import { cutStreams } from './open-streams.ts';

/** Whether the gateway is shutting down; `/readyz` answers 503 while it drains (health.ts). */
export interface ShutdownState {
  draining: boolean;
}

export interface DrainOptions {
  /** How long requests and streams in flight may take to finish before they are ended. */
  timeoutMs: number;
  logger: Logger;
}

/** Drains one server: `drain()` resolves once it has stopped, whatever was still in flight. */
export interface ServerDrain {
  drain(): Promise<void>;
}

/**
 * Graceful shutdown of an HTTP server: stop accepting connections, close idle keep-alive ones at
 * once and the others as their last answer is written (`Connection: close` on requests that still
 * arrive on them), and wait up to `timeoutMs`. Then event streams still open get a last error event
 * (`shutting_down`, open-streams.ts) and every connection left is closed.
 *
 * Idle means: every request the connection sent (pipelined ones too) has its answer written out.
 * Node's own closeIdleConnections, which `server.close()` calls, counts an answer as done once it
 * has ended, while a large body may still wait to be written to a client slow to read: it would
 * be cut. A connection that has not sent a request yet is left open, as Node does: its request
 * gets `Connection: close`, or the timeout ends it.
 */
export function createDrain(server: Server, state: ShutdownState, options: DrainOptions): ServerDrain {
  const connections = new Set<Socket>();
  /** Connections that sent a request, with how many of their answers are not written out yet. */
  const unanswered = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => {
      connections.delete(socket);
      unanswered.delete(socket);
    });
  });
  // One function for every answer, not a closure each: this runs on every request.
  function answerClosed(this: ServerResponse): void {
    const { socket } = this.req;
    const left = unanswered.get(socket);
    if (left === undefined) return;
    unanswered.set(socket, left - 1);
    if (state.draining && left === 1) closeIfStillOpen(socket);
  }
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    unanswered.set(request.socket, (unanswered.get(request.socket) ?? 0) + 1);
    if (state.draining && !response.headersSent) response.setHeader('connection', 'close');
    // 'close' follows 'finish' (the answer handed to the socket, and the next pipelined one, if
    // any, started), or comes alone when the connection dies.
    response.on('close', answerClosed);
  });
  const closeIdleConnections = () => {
    for (const [socket, left] of unanswered) if (left === 0) closeIfStillOpen(socket);
  };
  // `server.close()` calls it: ours, so no answer is cut.
  server.closeIdleConnections = closeIdleConnections;
  let drained: Promise<void> | undefined;

  async function drain(): Promise<void> {
    const { timeoutMs, logger } = options;
    state.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    logger.info(
      { connections: connections.size, timeoutMs },
      'shutting down: no new connections; waiting for the requests in flight',
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    try {
      if ((await Promise.race([closed, timedOut])) === 'timeout') {
        const error = new ServiceUnavailableError('The gateway is shutting down; send the request again.', {
          code: 'shutting_down',
        });
        const streams = cutStreams((response) => response.socket !== null && connections.has(response.socket), error);
        logger.warn(
          { streams, connections: connections.size, timeoutMs },
          'shutting down: time is up; ending the streams and connections still open',
        );
        // A response's writes reach its socket on the next tick (Node corks chunked bodies): let the error events out.
        await new Promise(setImmediate);
        server.closeAllConnections();
        await closed;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    drain() {
      drained ??= drain();
      return drained;
    },
  };
}

/** Closes an idle connection, unless Node is closing it already after a `Connection: close` answer. */
function closeIfStillOpen(socket: Socket): void {
  if (!socket.writableEnded) socket.destroy();
}
