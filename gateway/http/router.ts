import Router from '@koa/router';
import type { Config } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import type { GatewayMetrics } from '../lib/metrics.ts';
import type { Store } from '../lib/store.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { analyzeText, analyzeTextErrors } from './analyze-text.ts';
import { chatCompletions } from './chat-completions.ts';
import { embeddings } from './embeddings.ts';
import { healthz, readyz } from './health.ts';
import { metricsEndpoint } from './metrics.ts';
import { authenticate } from './middleware/auth.ts';
import { jsonBody } from './middleware/json-body.ts';
import { listModels, retrieveModel } from './models.ts';
import type { GatewayState } from './state.ts';
import { tutorialHealth } from './tutorial-health.ts';

export interface RouterDeps {
  config: Config;
  logger: Logger;
  store: Store;
  registry: ProviderRegistry;
  metrics: GatewayMetrics;
}

/** Every route of the gateway (design.md, "HTTP routes"), each with its middleware chain inline. */
export function createRouter({ config, logger, store, registry, metrics }: RouterDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
  const auth = authenticate(config.apiKeys);
  const body = jsonBody(config.maxBodyBytes);
  router.post('/v1/chat/completions', auth, body, chatCompletions(registry, logger));
  router.post('/v1/embeddings', auth, body, embeddings(registry));
  router.get('/v1/models', auth, listModels(registry, logger));
  router.get('/v1/models/:model', auth, retrieveModel(registry, logger));
  router.get('/healthz', healthz);
  router.get('/readyz', readyz(store, registry));
  router.get('/metrics', metricsEndpoint(metrics.registry));
  // The older 1C + GigaChat tutorial's protocol (onec/README.md).
  router.post('/analyze/text', analyzeTextErrors(logger), auth, body, analyzeText(registry));
  router.get('/health', tutorialHealth(registry));
  return router;
}
