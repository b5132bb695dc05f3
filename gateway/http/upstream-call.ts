import type { ProviderCall } from '../providers/provider.ts';
import type { Exchange } from './state.ts';

/** A provider call whose signal fires when the client goes away before the answer is complete. */
export function providerCall({ res }: Exchange): ProviderCall {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return { signal: controller.signal };
}

/** Passes the upstream's own request id on, so one failed call can be found on both sides. */
export function exposeUpstreamRequestId({ res }: Exchange, call: ProviderCall): void {
  if (call.upstreamRequestId !== undefined) res.setHeader('x-upstream-request-id', call.upstreamRequestId);
}
