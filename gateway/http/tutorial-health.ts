import type { ProviderRegistry } from '../providers/registry.ts';
import { providerStates } from './health.ts';
import type { GatewayMiddleware } from './state.ts';

/** `GET /health` body, as both revisions of the older 1C tutorial's server answered it, plus every provider. */
export interface TutorialHealth {
  status: 'ok' | 'degraded';
  /** Whether GigaChat can be asked (the tutorial's only provider); the first revision's field. */
  gigachat: boolean;
  /** The same, as the later revision named it (its server checked its GigaChat token). */
  token_valid: boolean;
  /** The later revision's words for the status. */
  message: string;
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
    const gigachat = registry.providers.some((provider) => provider.name === 'gigachat');
    const body: TutorialHealth = {
      status: enabled ? 'ok' : 'degraded',
      gigachat,
      token_valid: gigachat,
      message: enabled ? 'Сервис работает' : 'Нет настроенной модели',
      providers: providerStates(registry),
    };
    if (!enabled) body.error = 'No provider is configured: set GIGACHAT_CREDENTIALS or GEMINI_API_KEY.';
    ctx.body = body;
  };
}
