import type { Server, ServerResponse } from 'node:http';
import { createServer } from 'node:net';

/** How one upstream frames its answers, so a fault looks like that upstream misbehaving. */
export interface UpstreamWire {
  /** One event of an event stream, framed as this upstream sends it. */
  event(data: string): string;
  /** An error body in this upstream's own shape. */
  errorBody(status: number, message: string): unknown;
}

/** GigaChat: `\n\n` between events, errors as `{status, message}`. */
export const GIGACHAT_WIRE: UpstreamWire = {
  event: (data) => `data: ${data}\n\n`,
  errorBody: (status, message) => ({ status, message }),
};

/** Gemini (`alt=sse`): CRLF framing, errors as google.rpc.Status inside `error`. */
export const GEMINI_WIRE: UpstreamWire = {
  event: (data) => `data: ${data}\r\n\r\n`,
  errorBody: (status, message) => ({ error: { code: status, message, status: status === 500 ? 'INTERNAL' : 'ERROR' } }),
};

/** What a mock answers one request with. */
export type FaultyAnswer = (response: ServerResponse) => void | Promise<void>;

function startStream(response: ServerResponse, wire: UpstreamWire, events: readonly unknown[]): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events) response.write(wire.event(JSON.stringify(event)));
}

/**
 * Ways an upstream fails, each written on the real socket. Events are the upstream's own wire
 * objects (recorded shapes), sent before the fault so the client has already seen some chunks.
 */
export const upstreamFaults = {
  /** Takes the request and never answers. */
  silence: (): FaultyAnswer => () => undefined,

  /** Starts the stream, sends these events, then goes quiet with the connection open. */
  stallAfter:
    (wire: UpstreamWire, events: readonly unknown[]): FaultyAnswer =>
    (response) =>
      startStream(response, wire, events),

  /**
   * Starts the stream, sends these events, then resets the connection (TCP RST) once `until`
   * settles: the test resolves it when its client has seen the events, so none is lost to the reset.
   */
  resetAfter:
    (wire: UpstreamWire, events: readonly unknown[], until: Promise<unknown>): FaultyAnswer =>
    async (response) => {
      startStream(response, wire, events);
      await until;
      response.socket?.resetAndDestroy();
    },

  /** Sends a JSON answer's head and part of its body, then resets the connection. */
  resetMidBody: (): FaultyAnswer => (response) => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': '4096' });
    // Once the bytes are handed to the kernel (on loopback: delivered), the reset follows them.
    response.write('{"choices":[{"message":{"content":"Half', () => response.socket?.resetAndDestroy());
  },

  /** 200 with a JSON body cut off in the middle. */
  malformedJson: (): FaultyAnswer => (response) => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    response.end('{"choices":[{"message":{"content":"Half');
  },

  /** Sends these events, then an event whose data is not JSON, then ends the stream. */
  malformedEvent:
    (wire: UpstreamWire, events: readonly unknown[]): FaultyAnswer =>
    (response) => {
      startStream(response, wire, events);
      response.end(wire.event('{"candidates": [ this is not json'));
    },

  /** Sends these events and ends the body without the final event. */
  truncatedStream:
    (wire: UpstreamWire, events: readonly unknown[]): FaultyAnswer =>
    (response) => {
      startStream(response, wire, events);
      response.end();
    },

  /** An error status with the upstream's own error body (or the given one) and headers. */
  status:
    (wire: UpstreamWire, status: number, body?: unknown, headers: Record<string, string> = {}): FaultyAnswer =>
    (response) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify(body ?? wire.errorBody(status, `fault injected: HTTP ${status}`)));
    },
};

/** A loopback port with nothing listening on it: connecting is refused. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Stops a mock's listener and drops its connections; `reopen` listens on the same port again. */
export async function closeListener(server: Server): Promise<{ reopen(): Promise<void> }> {
  const { port } = server.address() as { port: number };
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    reopen: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
  };
}

/** How many connections a mock server has open right now. */
export function openConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/**
 * The connections a mock still has once the other side has closed its own: a socket destroyed by
 * the gateway reaches the mock a few event-loop turns later, so it looks again for a bounded
 * number of turns (turns, not time: a keep-alive timeout must not close them for us).
 */
export async function connectionsLeft(server: Server, turns = 200): Promise<number> {
  let count = await openConnections(server);
  for (let turn = 0; turn < turns && count > 0; turn++) {
    await new Promise(setImmediate);
    count = await openConnections(server);
  }
  return count;
}
