import OpenAI from 'openai';

/**
 * The app's only way to the gateway: the official OpenAI SDK, so the app works with any
 * OpenAI-compatible endpoint and could run apart from the gateway.
 */
export function createGatewayClient(baseUrl: string, apiKey: string | undefined): OpenAI {
  return new OpenAI({
    baseURL: `${baseUrl.replace(/\/+$/, '')}/v1`,
    apiKey: apiKey ?? 'no-key-needed',
    // Retries happen in one layer, the gateway's (README, "Retries"): an SDK retry here would
    // repeat every upstream attempt the gateway already made. A failed job gets its error callback.
    maxRetries: 0,
    timeout: 180_000,
  });
}

/** What a model is for, as the gateway's `GET /v1/models` says in each model's `kind`. */
export type ModelKind = 'chat' | 'embeddings' | 'image' | 'audio' | 'other';

/** A model `GET /v1/models` lists. */
export interface GatewayModel {
  id: string;
  /** Undefined when the server does not say: an older gigagate, or another OpenAI-compatible server. */
  kind: ModelKind | undefined;
  /** Who serves it: `salutedevices` (GigaChat), `google` (Gemini), `gigagate` (an alias of the gateway's). */
  ownedBy: string;
}

const KINDS: ReadonlySet<string> = new Set<ModelKind>(['chat', 'embeddings', 'image', 'audio', 'other']);

/** Every model the gateway lists, in its order; a kind outside the known ones counts as `other`. */
export async function listGatewayModels(gateway: OpenAI): Promise<GatewayModel[]> {
  const models: GatewayModel[] = [];
  for await (const model of gateway.models.list()) {
    const kind = (model as { kind?: unknown }).kind;
    models.push({
      id: model.id,
      kind: kind === undefined || kind === null ? undefined : KINDS.has(String(kind)) ? (kind as ModelKind) : 'other',
      ownedBy: model.owned_by,
    });
  }
  return models;
}

/**
 * A model to chat with: one the gateway calls `chat`. A model listed without a kind counts too: a
 * server that does not say lists the models it serves, and OpenAI's own list has no kind.
 */
export function isChatModel(model: GatewayModel): boolean {
  return model.kind === 'chat' || model.kind === undefined;
}
