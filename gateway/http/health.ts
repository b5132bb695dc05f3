import { isStoreReachable, type Store } from '../lib/store.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { ShutdownState } from './drain.ts';
import type { GatewayMiddleware } from './state.ts';

/** `GET /healthz`: the process answers. */
export const healthz: GatewayMiddleware = async function healthz(ctx) {
  ctx.body = { status: 'ok' };
};

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
      ctx.status = 503;
      ctx.body = {
        error: {
          message: 'Not ready: the gateway is shutting down.',
          type: 'api_error',
          param: null,
          code: 'shutting_down',
        },
        status: 'shutting_down',
      };
      return;
    }
    const storeOk = await isStoreReachable(store);
    const providers: Record<string, string> = {};
    for (const provider of registry.providers) providers[provider.name] = 'enabled';
    for (const disabled of registry.disabled) providers[disabled.name] = `disabled: ${disabled.reason}`;
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
    ctx.status = 503;
    ctx.body = {
      error: { message: `Not ready: ${problem}.`, type: 'api_error', param: null, code: 'not_ready' },
      status: 'not_ready',
      checks,
    };
  };
}
