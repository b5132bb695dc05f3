import { createParser } from 'eventsource-parser';

/**
 * The `data` of each event in an event-stream body, as the bytes arrive: one array per network
 * read, holding the events that read completed (often none or one; all of them when an upstream
 * writes the whole stream at once). Events may be split anywhere across reads; the parser
 * reassembles them. Batches rather than single events: each step of an async generator costs a
 * promise, and a stream's events pass through several.
 */
export async function* readSseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string[]> {
  let events: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event.data) });
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    parser.feed(decoder.decode(bytes, { stream: true }));
    if (events.length === 0) continue;
    const completed = events;
    events = [];
    yield completed;
  }
}
