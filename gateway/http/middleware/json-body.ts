import type { IncomingMessage } from 'node:http';
import { TextDecoder } from 'node:util';
import { prematureClose } from '../../lib/http-request.ts';
import { BadRequestError, PayloadTooLargeError } from '../../openai/errors.ts';
import { checkJsonDepth } from '../../openai/json-depth.ts';
import type { GatewayMiddleware } from '../state.ts';

/**
 * Reads the body as JSON whatever the Content-Type says (curl -d sends a form type), in the
 * declared charset (UTF-8 by default; 1C may send windows-1251), with or without a UTF-8 BOM.
 * A body over `maxBytes` is a 413; what the client still sends is dropped for a while
 * (unread-body.ts), so it can read the 413. Nesting deeper than MAX_JSON_DEPTH is a 400.
 */
export async function readJsonBody(request: IncomingMessage, maxBytes: number) {
  const declared = Number(request.headers['content-length'] ?? 0);
  const decoder = declared > maxBytes ? undefined : textDecoder(charsetOf(request.headers['content-type']));
  const bytes = decoder === undefined ? undefined : await readBytes(request, maxBytes);
  if (decoder === undefined || bytes === undefined) {
    throw new PayloadTooLargeError(
      `The request body is larger than ${maxBytes} bytes (MAX_BODY_BYTES). Send large files with POST /v1/files (multipart) and refer to them by file_id.`,
    );
  }
  const text = decoder.decode(bytes); // TextDecoder drops a leading BOM
  if (text.trim() === '') {
    throw new BadRequestError('The request body is empty; send a JSON object.', { code: 'invalid_json' });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`, {
      code: 'invalid_json',
    });
  }
  // Before anything walks it recursively: ajv, the translators, JSON.stringify.
  checkJsonDepth(body);
  return body;
}

/** The Koa form of readJsonBody: the value lands in `ctx.request.body`. */
export function jsonBody(maxBytes: number): GatewayMiddleware {
  return async function readBody(ctx, next) {
    ctx.request.body = await readJsonBody(ctx.req, maxBytes);
    await next();
  };
}

/** The whole body, or undefined once it grows past `maxBytes` (then reading stops). */
function readBytes(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else {
        request.off('data', onData);
        request.pause();
        chunks.length = 0;
        resolve(undefined);
      }
    };
    request.on('data', onData);
    request.on('end', () => resolve(size > maxBytes ? undefined : Buffer.concat(chunks, size)));
    request.on('error', reject);
    request.on('close', () => {
      if (!request.complete) reject(prematureClose());
    });
  });
}

const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]*))/i;

function charsetOf(contentType: string | undefined): string {
  const match = contentType === undefined ? null : CHARSET.exec(contentType);
  return match?.[1] ?? match?.[2] ?? '';
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

function textDecoder(charset: string): TextDecoder {
  if (charset === '' || charset.toLowerCase() === 'utf-8') return UTF8;
  try {
    return new TextDecoder(charset, { fatal: false });
  } catch {
    throw new BadRequestError(`Unsupported charset '${charset}' in Content-Type; send UTF-8.`, {
      code: 'unsupported_charset',
    });
  }
}
