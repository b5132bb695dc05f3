import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';

/** A body we refuse; the HTTP layer answers `status` with the message. */
export class BodyError extends Error {
  readonly status: number;
  readonly field: string | null;
  constructor(status: number, message: string, field: string | null = null) {
    super(message);
    this.name = 'BodyError';
    this.status = status;
    this.field = field;
  }
}

/**
 * Reads the whole request body as UTF-8, refusing more than `limitBytes`. Reading stops there; the
 * gateway's server drops the rest after the answer, so the client can read the 413.
 */
export async function readText(ctx: Context, limitBytes: number): Promise<string> {
  const tooLarge = () => new BodyError(413, `the request body is larger than ${limitBytes} bytes`);
  if (Number(ctx.get('content-length') || 0) > limitBytes) throw tooLarge();
  const bytes = await readUpTo(ctx.req, limitBytes);
  if (bytes === undefined) throw tooLarge();
  return new TextDecoder('utf-8').decode(bytes);
}

// Not `for await`: leaving that loop early destroys the request, and with it the connection.
function readUpTo(request: IncomingMessage, limitBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) return void chunks.push(chunk);
      request.off('data', onData);
      request.pause();
      resolve(undefined);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type Form = { [key: string]: FormValue };

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses `application/x-www-form-urlencoded` with PHP's bracket nesting, the way Bitrix24 posts
 * events and install forms: `auth[access_token]=…&data[CLEAN]=1` → `{auth: {access_token}, data: {CLEAN}}`.
 */
export function parseForm(text: string): Form {
  const form: Form = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (match === null) continue;
    const path = [
      match[1] as string,
      ...[...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1] as string),
    ];
    if (path.length > 6 || path.some((part) => FORBIDDEN.has(part))) continue;
    assign(form, path, value);
  }
  return form;
}

function assign(target: Form | FormValue[], path: string[], value: string): void {
  const [head, ...rest] = path as [string, ...string[]];
  const container = target as Record<string, FormValue>;
  const key = Array.isArray(target) && head === '' ? String(target.length) : head;
  if (rest.length === 0) {
    container[key] = value;
    return;
  }
  let next = container[key];
  if (next === undefined || typeof next === 'string') {
    next = rest[0] === '' ? [] : {};
    container[key] = next;
  }
  assign(next as Form | FormValue[], rest, value);
}

/** A string field of a parsed form (or nested object), or undefined. */
export function field(form: FormValue | undefined, ...path: string[]): string | undefined {
  let value: FormValue | undefined = form;
  for (const key of path) {
    if (value === undefined || typeof value === 'string' || Array.isArray(value)) return undefined;
    value = value[key];
  }
  return typeof value === 'string' ? value : undefined;
}
