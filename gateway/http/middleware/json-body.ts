import { TextDecoder } from 'node:util';
import { BadRequestError, PayloadTooLargeError } from '../../openai/errors.ts';
import type { GatewayMiddleware } from '../state.ts';

/**
 * Reads the body as JSON whatever the Content-Type says (curl -d sends a form type), in the
 * declared charset (UTF-8 by default; 1C may send windows-1251), with or without a UTF-8 BOM.
 */
export function jsonBody(maxBytes: number): GatewayMiddleware {
  const tooLarge = () =>
    new PayloadTooLargeError(`The request body is larger than ${maxBytes} bytes (MAX_BODY_BYTES).`);
  return async function readJsonBody(ctx, next) {
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > maxBytes) {
      ctx.req.resume();
      ctx.set('connection', 'close');
      throw tooLarge();
    }
    const decoder = textDecoder(ctx.request.charset);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        ctx.req.resume();
        ctx.set('connection', 'close');
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    const text = decoder.decode(Buffer.concat(chunks)); // TextDecoder drops a leading BOM
    if (text.trim() === '') {
      throw new BadRequestError('The request body is empty; send a JSON object.', { code: 'invalid_json' });
    }
    try {
      ctx.request.body = JSON.parse(text);
    } catch (error) {
      throw new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`, {
        code: 'invalid_json',
      });
    }
    await next();
  };
}

function textDecoder(charset: string): TextDecoder {
  try {
    return new TextDecoder(charset || 'utf-8', { fatal: false });
  } catch {
    throw new BadRequestError(`Unsupported charset '${charset}' in Content-Type; send UTF-8.`, {
      code: 'unsupported_charset',
    });
  }
}
