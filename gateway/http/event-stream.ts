import type { ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import { toGatewayError } from '../openai/errors.ts';
import { SSE_DONE, SSE_HEADERS, sseData } from '../openai/sse.ts';
import type { GatewayContext } from './state.ts';

/**
 * Writes an OpenAI event stream: the first item (already fetched, so failures before it were
 * ordinary HTTP errors), the rest as they come, then `[DONE]`. A failure after the headers went
 * out becomes one `data: {"error": …}` event, and the stream ends.
 */
export async function sendEventStream(
  ctx: GatewayContext,
  first: IteratorResult<unknown>,
  rest: AsyncIterator<unknown>,
  logger: Logger,
): Promise<void> {
  ctx.respond = false;
  const response = ctx.res;
  response.writeHead(200, SSE_HEADERS);
  try {
    for (let step = first; step.done !== true; step = await rest.next()) {
      if (!response.write(sseData(step.value))) await drained(response);
    }
    response.write(SSE_DONE);
  } catch (error) {
    if (response.destroyed) {
      ctx.state.clientGone = true;
    } else {
      const answer = toGatewayError(error);
      logger.warn(
        { requestId: ctx.state.requestId, status: answer.status, code: answer.code, err: error },
        'stream failed after it began',
      );
      response.write(sseData(answer.toBody()));
    }
  } finally {
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
