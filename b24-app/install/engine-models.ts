import OpenAI from 'openai';
import { isChatModel, listGatewayModels } from '../gateway-client.ts';

/** The gateway's providers, by the `owned_by` their models carry, and the product an engine's name shows. */
const PROVIDER_PRODUCTS: Readonly<Record<string, string>> = {
  salutedevices: 'Sber GigaChat',
  google: 'Google Gemini',
};

/** A model to register as an engine, and who serves it (undefined when the gateway did not list it). */
export interface EngineModel {
  id: string;
  ownedBy: string | undefined;
}

/** The product shown after the model in an engine's name: the provider that answers, or gigagate itself. */
export function productOf(ownedBy: string | undefined): string {
  return ownedBy !== undefined && Object.hasOwn(PROVIDER_PRODUCTS, ownedBy)
    ? (PROVIDER_PRODUCTS[ownedBy] as string)
    : 'gigagate';
}

/**
 * The models to register as engines: B24_ENGINE_MODELS, or else the first chat model of each
 * provider the gateway has enabled (in the order GET /v1/models lists them). Configured models are
 * looked up in the list only for their owner, so an install does not need the gateway's list.
 */
export async function engineModels(configured: readonly string[] | undefined, gateway: OpenAI): Promise<EngineModel[]> {
  if (configured !== undefined) {
    const listed = await listGatewayModels(gateway).catch((error: unknown) => {
      if (error instanceof OpenAI.APIError) return [];
      throw error;
    });
    // `gemini/gemini-2.5-pro` is the listed `gemini-2.5-pro`, named with the gateway's provider prefix.
    const owner = (id: string) =>
      (listed.find((model) => model.id === id) ?? listed.find((model) => model.id === id.slice(id.indexOf('/') + 1)))
        ?.ownedBy;
    return configured.map((id) => ({ id, ownedBy: owner(id) }));
  }
  const first = new Map<string, EngineModel>();
  for (const model of await listGatewayModels(gateway)) {
    if (Object.hasOwn(PROVIDER_PRODUCTS, model.ownedBy) && isChatModel(model) && !first.has(model.ownedBy)) {
      first.set(model.ownedBy, { id: model.id, ownedBy: model.ownedBy });
    }
  }
  if (first.size === 0) {
    throw new Error('the gateway lists no chat model: configure a provider, or set B24_ENGINE_MODELS');
  }
  return [...first.values()];
}
