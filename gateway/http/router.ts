import Router from '@koa/router';
import type { ClientPolicy } from '../clients/policy.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import type { GatewayMetrics } from '../lib/metrics.ts';
import type { Store } from '../lib/store.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { ModelRouter } from '../routing/model-router.ts';
import { adminUsage } from './admin-usage.ts';
import { analyzeText, analyzeTextErrors } from './analyze-text.ts';
import { chatCompletions } from './chat-completions.ts';
import { createDispatcher, type Dispatcher } from './dispatch.ts';
import type { ShutdownState } from './drain.ts';
import { embeddings } from './embeddings.ts';
import { healthz, readyz, type StartingPart } from './health.ts';
import { metricsEndpoint } from './metrics.ts';
import { authenticateAdmin } from './middleware/admin-auth.ts';
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
  /** Model names and aliases → providers. */
  models: ModelRouter;
  policy: ClientPolicy;
  metrics: GatewayMetrics;
  /** Set once a shutdown begins; `/readyz` then answers 503. */
  shutdown?: ShutdownState;
  /** The app mounted beside the gateway, whose start `/readyz` waits for. */
  mounted?: StartingPart;
}

/** The dispatcher of the model-bound routes (dispatch.ts), from the router's deps. */
export function dispatcherFor(deps: RouterDeps): Dispatcher {
  const { models, policy, metrics, logger, config } = deps;
  return createDispatcher({ router: models, policy, metrics, logger, retry: config.retry });
}

/** Every route of the gateway (design.md, "HTTP routes"), each with its middleware chain inline. */
export function createRouter(deps: RouterDeps): Router<GatewayState> {
  const { config, logger, store, registry } = deps;
  const dispatcher = dispatcherFor(deps);
  const router = new Router<GatewayState>();
  const auth = authenticate(config.apiKeys);
  const body = jsonBody(config.maxBodyBytes);
  router.post('/v1/chat/completions', auth, body, chatCompletions(dispatcher, logger));
  router.post('/v1/embeddings', auth, body, embeddings(dispatcher));
  router.get('/v1/models', auth, listModels(deps));
  router.get('/v1/models/:model', auth, retrieveModel(deps));
  router.get('/healthz', healthz);
  router.get('/readyz', readyz(store, registry, deps.shutdown, deps.mounted));
  router.get('/metrics', metricsEndpoint(deps.metrics.registry));
  router.get('/admin/usage', authenticateAdmin(config.adminKey), adminUsage(deps.policy));
  // The older 1C + GigaChat tutorial's protocol (onec/README.md).
  router.post('/analyze/text', analyzeTextErrors(logger), auth, body, analyzeText(dispatcher));
  router.get('/health', tutorialHealth(registry));
  return router;
}
