import Router from '@koa/router';
import { adminGigaChatBalance } from './admin-gigachat-balance.ts';
import { adminKeys } from './admin-keys.ts';
import { adminUsage } from './admin-usage.ts';
import { analyzeText, analyzeTextFailure } from './analyze-text.ts';
import type { RouteDeps } from './app-deps.ts';
import { CHAT_COMPLETIONS_PATH } from './chat-entrance.ts';
import { embeddings } from './embeddings.ts';
import { filesApi } from './files.ts';
import { healthz, readyz } from './health.ts';
import { metricsEndpoint } from './metrics.ts';
import { authenticateAdmin } from './middleware/admin-auth.ts';
import { authenticate } from './middleware/auth.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { jsonBody } from './middleware/json-body.ts';
import { listModels, retrieveModel } from './models.ts';
import { responsesApi } from './responses.ts';
import type { GatewayState } from './state.ts';
import { tutorialHealth } from './tutorial-health.ts';

/** Every route Koa answers, each with its middleware chain inline. */
export function createRouter(deps: RouteDeps): Router<GatewayState> {
  const { config, logger, store, registry, dispatcher } = deps;
  const router = new Router<GatewayState>();
  const auth = authenticate(deps.checkApiKey);
  const body = jsonBody(config.maxBodyBytes);
  // Listed so other methods get 405 with Allow: POST; the chat entrance answers every POST it matches.
  router.post(CHAT_COMPLETIONS_PATH, answeredByChatEntrance);
  router.post('/v1/embeddings', auth, body, embeddings(dispatcher));
  router.get('/v1/models', auth, listModels(deps));
  router.get('/v1/models/:model', auth, retrieveModel(deps));
  if (deps.files !== undefined) {
    const files = filesApi(deps.files);
    router.post('/v1/files', auth, files.create);
    router.get('/v1/files', auth, files.list);
    router.get('/v1/files/:id', auth, files.retrieve);
    router.delete('/v1/files/:id', auth, files.remove);
    router.get('/v1/files/:id/content', auth, files.content);
  }
  if (deps.responses !== undefined) {
    const responses = responsesApi({
      dispatcher,
      responses: deps.responses.store,
      background: deps.responses.background,
      logger,
    });
    router.post('/v1/responses', auth, body, responses.create);
    router.get('/v1/responses/:id', auth, responses.retrieve);
    router.delete('/v1/responses/:id', auth, responses.remove);
    router.get('/v1/responses/:id/input_items', auth, responses.inputItems);
    router.post('/v1/responses/:id/cancel', auth, responses.cancel);
  }
  router.get('/healthz', healthz);
  router.get('/readyz', readyz(store, registry, deps.shutdown, deps.mounted));
  router.get('/metrics', metricsEndpoint(deps.metrics.registry));
  const admin = authenticateAdmin(config.adminKey);
  router.get('/admin/usage', admin, adminUsage(deps.policy));
  if (deps.keyStore !== undefined) {
    const keys = adminKeys(deps.keyStore);
    router.post('/admin/keys', admin, keys.create);
    router.get('/admin/keys', admin, keys.list);
    router.get('/admin/keys/:name', admin, keys.retrieve);
    router.patch('/admin/keys/:name', admin, keys.change);
    router.delete('/admin/keys/:name', admin, keys.revoke);
  }
  router.get('/admin/gigachat/balance', admin, adminGigaChatBalance(deps.accounts, config));
  // The older 1C + GigaChat tutorial's protocol (onec/README.md): failures in its own shape, which
  // depends on the revision the body shows, so the body (bounded as any) is read before the key.
  router.post('/analyze/text', errorHandler(logger, analyzeTextFailure), body, auth, analyzeText(dispatcher));
  router.get('/health', tutorialHealth(registry));
  return router;
}

async function answeredByChatEntrance(): Promise<never> {
  throw new Error(
    'POST /v1/chat/completions reached Koa: the chat entrance (chat-entrance.ts) should have answered it',
  );
}
