import { isStoreReachable, type Store } from '../lib/store.ts';
import { ServiceUnavailableError } from '../openai/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { ShutdownState } from './drain.ts';
import type { GatewayContext, GatewayMiddleware } from './state.ts';

/** `GET /healthz`: the process answers. */
export const healthz: GatewayMiddleware = async function healthz(ctx) {
  ctx.body = { status: 'ok' };
};

/** Each known provider's state: `enabled`, or `disabled: <reason>`. */
export function providerStates(registry: ProviderRegistry): Record<string, string> {
  const states: Record<string, string> = {};
  for (const provider of registry.providers) states[provider.name] = 'enabled';
  for (const disabled of registry.disabled) states[disabled.name] = `disabled: ${disabled.reason}`;
  return states;
}

/** A part of the process that starts after the gateway listens (the Bitrix24 app resumes its jobs). */
export interface StartingPart {
  /** Its entry in `/readyz`'s checks. */
  name: string;
  /** For the message: `the Bitrix24 app`. */
  displayName: string;
  /** `starting` until it has started, then `ready`. */
  state(): 'starting' | 'ready';
}

/**
 * `GET /readyz`: the store answers, at least one provider is configured and the mounted part has
 * started; 503 otherwise, and 503 `shutting_down` while a shutdown drains (a load balancer then
 * sends new requests elsewhere).
 */
export function readyz(
  store: Store,
  registry: ProviderRegistry,
  shutdown?: ShutdownState,
  part?: StartingPart,
): GatewayMiddleware {
  return async function readiness(ctx) {
    if (shutdown?.draining === true) {
      notReady(ctx, 'the gateway is shutting down', 'shutting_down');
      return;
    }
    const storeOk = await isStoreReachable(store);
    const providers = providerStates(registry);
    const partState = part?.state();
    const ready = storeOk && registry.providers.length > 0 && partState !== 'starting';
    const checks = {
      store: storeOk ? 'ok' : 'unreachable',
      providers,
      ...(part === undefined ? {} : { [part.name]: partState }),
    };
    if (ready) {
      ctx.body = { status: 'ready', checks };
      return;
    }
    const problem = !storeOk
      ? 'the store is unreachable'
      : registry.providers.length === 0
        ? 'no provider is configured'
        : `${part?.displayName} is starting`;
    notReady(ctx, problem, 'not_ready', checks);
  };
}

/** A 503 in OpenAI's shape, with the state (and the checks) beside the error for readers of /readyz. */
function notReady(ctx: GatewayContext, problem: string, code: string, checks?: Record<string, unknown>): void {
  const failure = new ServiceUnavailableError(`Not ready: ${problem}.`, { code });
  ctx.status = failure.status;
  ctx.body = { ...failure.toBody(), status: code, ...(checks === undefined ? {} : { checks }) };
}
