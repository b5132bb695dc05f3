import { randomUUID } from 'node:crypto';
import type { GatewayMiddleware } from '../state.ts';

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** The caller's `X-Request-ID` when it is sane, else a new one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && SAFE_ID.test(incoming) ? incoming : randomUUID();
}

/** Gives every request an id and returns it as a header. */
export const requestId: GatewayMiddleware = async function requestId(ctx, next) {
  ctx.state.requestId = requestIdFor(ctx.get('x-request-id'));
  ctx.set('x-request-id', ctx.state.requestId);
  await next();
};
