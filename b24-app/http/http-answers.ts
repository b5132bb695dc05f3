import type { Context } from 'koa';
import { BodyError, type Form } from './request-body.ts';

/** An error in Bitrix24's REST shape, for the routes Bitrix24 itself calls (engine, install, events). */
export function answerBitrixError(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}

/** The form `read` gives, or undefined once a refused body (too large, unreadable) was answered in Bitrix24's shape. */
export async function readFormOrAnswer(ctx: Context, read: (ctx: Context) => Promise<Form>): Promise<Form | undefined> {
  try {
    return await read(ctx);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    answerBitrixError(ctx, error.status, 'INVALID_REQUEST', error.message);
    return undefined;
  }
}

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'api_error';

/** An error in OpenAI's shape, for the routes a client reads (the app page's own calls). */
export function answerOpenAIError(
  ctx: Context,
  status: number,
  type: OpenAIErrorType,
  message: string,
  code: string,
  param: string | null = null,
): void {
  ctx.status = status;
  ctx.body = { error: { message, type, param, code } };
}
