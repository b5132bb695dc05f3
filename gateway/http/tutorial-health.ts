import type { ProviderRegistry } from '../providers/registry.ts';
import { providerStates } from './health.ts';
import type { GatewayMiddleware } from './state.ts';

/** `GET /health` body, as the older 1C tutorial's server answered it, plus every provider. */
export interface TutorialHealth {
  status: 'ok' | 'degraded';
  /** Whether GigaChat can be asked (the tutorial's only provider). */
  gigachat: boolean;
  /** Each known provider: `enabled` or `disabled: <reason>`. */
  providers: Record<string, string>;
  /** Why the gateway is degraded; absent when it is not. */
  error?: string;
}

/**
 * `GET /health`: the tutorial's health check. Always 200, as there (it reports, it does not gate);
 * `degraded` when no provider is configured. `/readyz` is the check for load balancers.
 */
export function tutorialHealth(registry: ProviderRegistry): GatewayMiddleware {
  return async function reportTutorialHealth(ctx) {
    const enabled = registry.providers.length > 0;
    const body: TutorialHealth = {
      status: enabled ? 'ok' : 'degraded',
      gigachat: registry.providers.some((provider) => provider.name === 'gigachat'),
      providers: providerStates(registry),
    };
    if (!enabled) body.error = 'No provider is configured: set GIGACHAT_CREDENTIALS or GEMINI_API_KEY.';
    ctx.body = body;
  };
}
