import { readSseData } from '../../lib/read-sse.ts';
import { UpstreamError } from '../../openai/errors.ts';
import type { GigaChatChunk, GigaChatErrorBody } from './wire-types.ts';

/** Turns GigaChat's event-stream body into chunk objects as the bytes arrive, up to `data: [DONE]`. */
export async function* parseGigaChatStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<GigaChatChunk> {
  let done = false;
  for await (const batch of readSseData(body)) {
    // After [DONE] the rest is read but ignored, so the connection goes back to the pool intact.
    for (const data of batch) {
      if (done || data === '[DONE]') {
        done = true;
        continue;
      }
      yield parseChunk(data);
    }
  }
}

function parseChunk(data: string): GigaChatChunk {
  let parsed: GigaChatChunk & GigaChatErrorBody;
  try {
    parsed = JSON.parse(data) as GigaChatChunk & GigaChatErrorBody;
  } catch {
    throw new UpstreamError('GigaChat sent a stream event that is not JSON.');
  }
  if (!Array.isArray(parsed.choices)) {
    const detail = typeof parsed.message === 'string' ? parsed.message : 'an event without choices';
    throw new UpstreamError(`GigaChat reported an error mid-stream: ${detail}`);
  }
  return parsed;
}
