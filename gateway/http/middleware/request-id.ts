import { randomUUID } from 'node:crypto';
import type { GatewayMiddleware } from '../state.ts';

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** Gives every request an id (the caller's `X-Request-ID` when it is sane) and returns it as a header. */
export const requestId: GatewayMiddleware = async function requestId(ctx, next) {
  const incoming = ctx.get('x-request-id');
  ctx.state.requestId = SAFE_ID.test(incoming) ? incoming : randomUUID();
  ctx.set('x-request-id', ctx.state.requestId);
  await next();
};
