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

// Node has no event for a keep-alive connection turning idle once its answer ends, so while
// draining the server closes idle connections this often.
const IDLE_SWEEP_MS = 50;

/**
 * Graceful shutdown of an HTTP server: stop accepting connections, close idle keep-alive ones at
 * once and the others as their answers end (`Connection: close` on requests that still arrive
 * on them), and wait up to `timeoutMs`. Then event streams still open get a last error event
 * (`shutting_down`, open-streams.ts) and every connection left is closed.
 */
export function createDrain(server: Server, state: ShutdownState, options: DrainOptions): ServerDrain {
  const connections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  let drained: Promise<void> | undefined;

  async function drain(): Promise<void> {
    const { timeoutMs, logger } = options;
    state.draining = true;
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      if (!response.headersSent) response.setHeader('connection', 'close');
    });
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    logger.info(
      { connections: connections.size, timeoutMs },
      'shutting down: no new connections; waiting for the requests in flight',
    );
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
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
      clearInterval(sweep);
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
