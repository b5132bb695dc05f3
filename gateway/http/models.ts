import type { ClientPolicy } from '../clients/policy.ts';
import type { Logger } from '../lib/logger.ts';
import { NotFoundError, toGatewayError } from '../openai/errors.ts';
import { parseModelName } from '../openai/model-name.ts';
import type { OpenAIModel, OpenAIModelKind, OpenAIModelList } from '../openai/types.ts';
import type { ModelRouter, Target } from '../routing/model-router.ts';
import type { GatewayMiddleware, GatewayState } from './state.ts';

export interface ModelListDeps {
  models: ModelRouter;
  policy: ClientPolicy;
  logger: Logger;
}

/** The configured aliases, then every model of every enabled provider: those this client may use. */
async function allModels({ models, policy, logger }: ModelListDeps, state: GatewayState): Promise<OpenAIModel[]> {
  const listed = await models.registry.listModels((provider, error) => {
    const reason = toGatewayError(error);
    logger.warn(
      { provider: provider.name, status: reason.status },
      `${provider.displayName}: models not listed: ${reason.message}`,
    );
  });
  const aliases = models.aliasModels().map((alias) => ({ ...alias, kind: aliasKind(models, alias.id, listed) }));
  return [...aliases, ...listed].filter((model) => policy.allows(state.clientName, model.id));
}

/** An alias is the kind of its first chain member, as its provider lists it; chat when that is not known. */
function aliasKind(models: ModelRouter, alias: string, listed: readonly OpenAIModel[]): OpenAIModelKind {
  let first: Target | undefined;
  try {
    first = models.route(alias).targets[0];
  } catch {
    // None of its providers is configured.
  }
  const entry = first === undefined ? undefined : listed.find((model) => model.id === first.model);
  return entry?.kind ?? 'chat';
}

/** `GET /v1/models`: in OpenAI's list shape. */
export function listModels(deps: ModelListDeps): GatewayMiddleware {
  return async function listAllModels(ctx) {
    const body: OpenAIModelList = { object: 'list', data: await allModels(deps, ctx.state) };
    ctx.body = body;
  };
}

/** `GET /v1/models/:model`: one model, 400 for a name outside the grammar (model-name.ts), or 404 `model_not_found`. */
export function retrieveModel(deps: ModelListDeps): GatewayMiddleware {
  return async function retrieveOneModel(ctx) {
    const id = String(ctx.params.model);
    // Refused before the providers are asked for their lists.
    if (!deps.models.aliasModels().some((alias) => alias.id === id)) parseModelName(id);
    const found = (await allModels(deps, ctx.state)).find((model) => model.id === id);
    if (found === undefined) {
      throw new NotFoundError(`The model '${id}' does not exist.`, { param: 'model', code: 'model_not_found' });
    }
    ctx.body = found;
  };
}
