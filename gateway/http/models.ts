import { NotFoundError } from '../openai/errors.ts';
import type { OpenAIModelList } from '../openai/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { GatewayMiddleware } from './state.ts';

/** `GET /v1/models`: every model of every enabled provider, in OpenAI's list shape. */
export function listModels(registry: ProviderRegistry): GatewayMiddleware {
  return async function listAllModels(ctx) {
    const body: OpenAIModelList = { object: 'list', data: await registry.listModels() };
    ctx.body = body;
  };
}

/** `GET /v1/models/:model`: one model, or 404 `model_not_found`. */
export function retrieveModel(registry: ProviderRegistry): GatewayMiddleware {
  return async function retrieveOneModel(ctx) {
    const id = String(ctx.params.model);
    const found = (await registry.listModels()).find((model) => model.id === id);
    if (found === undefined) {
      throw new NotFoundError(`The model '${id}' does not exist.`, { param: 'model', code: 'model_not_found' });
    }
    ctx.body = found;
  };
}
