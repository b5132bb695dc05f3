/** Headers of an OpenAI-style event stream; no compression, no proxy buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** One `data:` event carrying a JSON value. */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** The event an OpenAI stream ends with. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** One named event (`event:` then `data:`), as the Responses API streams them. */
export function sseEvent<T extends { type: string }>(value: T): string {
  return `event: ${value.type}\ndata: ${JSON.stringify(value)}\n\n`;
}
