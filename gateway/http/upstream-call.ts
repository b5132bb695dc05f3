import type { ProviderCall } from '../providers/provider.ts';
import type { GatewayContext } from './state.ts';

/** A provider call whose signal fires when the client goes away before the answer is complete. */
export function providerCall(ctx: GatewayContext): ProviderCall {
  const controller = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort();
  });
  return { signal: controller.signal };
}

/** Passes the upstream's own request id on, so one failed call can be found on both sides. */
export function exposeUpstreamRequestId(ctx: GatewayContext, call: ProviderCall): void {
  if (call.upstreamRequestId !== undefined) ctx.set('x-upstream-request-id', call.upstreamRequestId);
}
