import type { Dispatcher } from 'undici';

/** Bytes held unread before the upstream connection is paused. */
const HIGH_WATER_BYTES = 64 * 1024;

/** Bodies read whole are refused beyond this size unless the caller says otherwise. */
const DEFAULT_LIMIT_BYTES = 16 * 1024 * 1024;

/** A body read whole was larger than its limit; the request was ended. */
export class ResponseTooLargeError extends Error {
  constructor(limitBytes: number) {
    super(`the answer is larger than ${limitBytes} bytes, the most the gateway reads`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * An upstream answer's body, fed by undici's dispatch handler (http-request.ts): read it whole, or
 * iterate its chunks as they arrive. The connection is paused while more than 64 KB lie unread.
 * A reader that stops early (a `break`, `destroy()`) aborts the request; once the body has ended,
 * the connection is already back in the pool and `destroy()` does nothing.
 */
export class ResponseBody implements AsyncIterable<Buffer> {
  readonly #controller: Dispatcher.DispatchController;
  #chunks: Buffer[] = [];
  #unread = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(controller: Dispatcher.DispatchController) {
    this.#controller = controller;
  }

  /** From the handler: a piece of the body. */
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#unread += chunk.length;
    if (this.#unread > HIGH_WATER_BYTES) this.#controller.pause();
    this.#notify();
  }

  /** From the handler: the body is complete. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** From the handler: the body broke off (a reset, a timeout, an abort). Chunks read before it are still given out. */
  fail(error: Error): void {
    this.#error ??= error;
    this.#notify();
  }

  /** Stops reading: ends the upstream request unless the body is complete. */
  destroy(): void {
    if (this.#ended || this.#error !== undefined) return;
    const reason = new Error('response body destroyed');
    this.fail(reason);
    this.#controller.abort(reason);
  }

  /** The whole body; more than `limitBytes` fails with ResponseTooLargeError and ends the request. */
  async bytes(limitBytes = DEFAULT_LIMIT_BYTES): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    // Not through the iterator: a small answer has usually arrived whole before it is asked for.
    for (;;) {
      for (let chunk = this.#take(); chunk !== undefined; chunk = this.#take()) {
        size += chunk.length;
        if (size > limitBytes) {
          this.destroy();
          throw new ResponseTooLargeError(limitBytes);
        }
        chunks.push(chunk);
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      await this.#arrival();
    }
  }

  async text(limitBytes?: number): Promise<string> {
    return (await this.bytes(limitBytes)).toString('utf8');
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        const chunk = this.#take();
        if (chunk !== undefined) yield chunk;
        else if (this.#error !== undefined) throw this.#error;
        else if (this.#ended) return;
        else await this.#arrival();
      }
    } finally {
      this.destroy();
    }
  }

  /** The oldest unread chunk, resuming the connection once little is left unread. */
  #take(): Buffer | undefined {
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return undefined;
    this.#unread -= chunk.length;
    if (this.#unread <= HIGH_WATER_BYTES && this.#controller.paused) this.#controller.resume();
    return chunk;
  }

  /** Resolves when a chunk, the end or a failure arrives. */
  #arrival(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
