import type { Logger } from '../lib/logger.ts';
import { NotFoundError, toGatewayError } from '../openai/errors.ts';
import type { OpenAIModel, OpenAIModelList } from '../openai/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { GatewayMiddleware } from './state.ts';

function allModels(registry: ProviderRegistry, logger: Logger): Promise<OpenAIModel[]> {
  return registry.listModels((provider, error) => {
    const reason = toGatewayError(error);
    logger.warn(
      { provider: provider.name, status: reason.status },
      `${provider.displayName}: models not listed: ${reason.message}`,
    );
  });
}

/** `GET /v1/models`: every model of every enabled provider, in OpenAI's list shape. */
export function listModels(registry: ProviderRegistry, logger: Logger): GatewayMiddleware {
  return async function listAllModels(ctx) {
    const body: OpenAIModelList = { object: 'list', data: await allModels(registry, logger) };
    ctx.body = body;
  };
}

/** `GET /v1/models/:model`: one model, or 404 `model_not_found`. */
export function retrieveModel(registry: ProviderRegistry, logger: Logger): GatewayMiddleware {
  return async function retrieveOneModel(ctx) {
    const id = String(ctx.params.model);
    const found = (await allModels(registry, logger)).find((model) => model.id === id);
    if (found === undefined) {
      throw new NotFoundError(`The model '${id}' does not exist.`, { param: 'model', code: 'model_not_found' });
    }
    ctx.body = found;
  };
}
