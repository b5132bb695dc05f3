import { randomUUID } from 'node:crypto';
import { type PromptSink, runInRequest } from '../../lib/request-context.ts';
import type { GatewayMiddleware } from '../state.ts';

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** The caller's `X-Request-ID` when it is sane, else a new one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && SAFE_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Gives every request an id, returns it as a header, and runs the rest of the chain in the
 * request's context (lib/request-context.ts), so every line logged meanwhile carries the id.
 */
export function requestId(logPrompt: PromptSink | undefined): GatewayMiddleware {
  return async function requestId(ctx, next) {
    const id = requestIdFor(ctx.get('x-request-id'));
    ctx.state.requestId = id;
    ctx.set('x-request-id', id);
    await runInRequest({ requestId: id, logPrompt }, next);
  };
}
