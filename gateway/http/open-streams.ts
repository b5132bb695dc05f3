import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../openai/errors.ts';

/** Ends one event stream early: its last event is the error, then the connection closes. */
export type StreamCut = (error: GatewayError) => void;

// The event streams being written in this process, so a shutdown that runs out of time can end
// each with an error event instead of a bare reset (drain.ts).
const open = new Map<ServerResponse, StreamCut>();

/** Registers a stream until `untrackStream`. */
export function trackStream(response: ServerResponse, cut: StreamCut): void {
  open.set(response, cut);
}

export function untrackStream(response: ServerResponse): void {
  open.delete(response);
}

/** Cuts the open streams `select` picks (one process may run several gateways); returns how many. */
export function cutStreams(select: (response: ServerResponse) => boolean, error: GatewayError): number {
  let count = 0;
  for (const [response, cut] of open) {
    if (!select(response)) continue;
    cut(error);
    count += 1;
  }
  return count;
}
