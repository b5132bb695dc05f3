/*
 * GigaChat has no `stop` parameter, so the gateway emulates OpenAI's: the answer ends just before
 * the first stop sequence, which itself is not returned.
 */

/** Index of the earliest stop sequence in `text`, or -1. */
export function findStopSequence(text: string, stops: readonly string[]): number {
  let earliest = -1;
  for (const stop of stops) {
    const index = text.indexOf(stop);
    if (index !== -1 && (earliest === -1 || index < earliest)) earliest = index;
  }
  return earliest;
}

/**
 * For streams: passes text through, holding back only a tail that could be the start of a stop
 * sequence split across two deltas.
 */
export class StopSequenceFilter {
  readonly #stops: readonly string[];
  #held = '';

  constructor(stops: readonly string[]) {
    this.#stops = stops;
  }

  /** The text that is safe to send now, and whether a stop sequence was reached. */
  push(text: string): { text: string; stopped: boolean } {
    const buffer = this.#held + text;
    const index = findStopSequence(buffer, this.#stops);
    if (index !== -1) {
      this.#held = '';
      return { text: buffer.slice(0, index), stopped: true };
    }
    const keep = this.#partialMatchLength(buffer);
    this.#held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** What is still held back when the stream ends without a stop sequence. */
  flush(): string {
    const held = this.#held;
    this.#held = '';
    return held;
  }

  #partialMatchLength(buffer: string): number {
    for (let length = Math.min(buffer.length, this.#longest() - 1); length > 0; length--) {
      const tail = buffer.slice(buffer.length - length);
      if (this.#stops.some((stop) => stop.startsWith(tail))) return length;
    }
    return 0;
  }

  #longest(): number {
    return Math.max(...this.#stops.map((stop) => stop.length));
  }
}
