import type { ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import { type GatewayError, toGatewayError } from '../openai/errors.ts';
import { SSE_DONE, SSE_HEADERS, sseData } from '../openai/sse.ts';
import { trackStream, untrackStream } from './open-streams.ts';
import type { Exchange } from './state.ts';

/** How one kind of event stream frames its items, its end, and a failure after it began. */
export interface StreamFormat {
  item(value: unknown): string;
  /** Written after the last item; Chat Completions' `[DONE]`. */
  end: string;
  failure(error: GatewayError): string;
}

/** Chat Completions: `data:` events, an error as `data: {"error": …}`, then `data: [DONE]`. */
export const CHAT_STREAM: StreamFormat = {
  item: sseData,
  end: SSE_DONE,
  failure: (error) => sseData(error.toBody()),
};

/**
 * Writes an OpenAI event stream: the first item (already fetched, so failures before it were
 * ordinary HTTP errors), the rest as they come, then the format's end (`[DONE]` on chat). A failure
 * after the headers went out becomes the format's failure event, and the stream ends. A shutdown that runs out of
 * time cuts the stream the same way (open-streams.ts). Resolves with the stream's return value
 * when it ran to its end (a chat stream's usage), undefined when it did not.
 */
export async function sendEventStream(
  { res: response, state }: Exchange,
  first: IteratorResult<unknown>,
  rest: AsyncIterator<unknown>,
  logger: Logger,
  format: StreamFormat = CHAT_STREAM,
): Promise<unknown> {
  response.writeHead(200, SSE_HEADERS);
  // Events ready in the same tick (one upstream read often carries several) go out as one chunk of
  // the response, written once that tick's work is done: no event waits for a later upstream read.
  // Writing the first one apart cost a write per stream (a tenth of its CPU on loopback) to win
  // tens of microseconds on the first byte, and only when the upstream sends several events at once.
  let pending = '';
  let cut = false;
  const flush = () => {
    if (pending !== '' && !cut) {
      response.write(pending);
      state.firstByteAt ??= performance.now();
    }
    pending = '';
  };
  const send = (data: string) => {
    if (pending === '') process.nextTick(flush);
    pending += data;
  };
  // The error goes out after what is pending; closing the connection (not ending the response) aborts the upstream call.
  trackStream(response, (error: GatewayError) => {
    if (cut) return;
    cut = true;
    response.write(pending + format.failure(error), () => response.destroy());
    pending = '';
  });
  let step = first;
  try {
    for (; step.done !== true; step = await rest.next()) {
      send(format.item(step.value));
      if (response.writableNeedDrain) await drained(response);
    }
    if (format.end !== '') send(format.end);
    return step.value;
  } catch (error) {
    if (response.destroyed) {
      // The client left, or a shutdown cut the stream (its error event went out already).
      if (!cut) state.clientGone = true;
    } else {
      const answer = toGatewayError(error);
      logger.warn({ status: answer.status, code: answer.code, err: error }, 'stream failed after it began');
      send(format.failure(answer));
    }
  } finally {
    untrackStream(response);
    flush();
    response.end();
    await rest.return?.();
  }
}

// Waits for the client to take more data; a client that left resolves it too (the abort ends the stream).
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
