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

const NOT_CHAT = /^(embeddings|gigaembeddings|text-embedding|embedding-|gigafilter|gigacheck)/i;

/** Which provider a model id belongs to, by the gateway's routing rules (design.md). */
export function providerOf(model: string): string | undefined {
  if (/^gigachat/i.test(model)) return 'gigachat';
  if (/^(gemini|gemma)-/i.test(model)) return 'gemini';
  return undefined;
}

/**
 * The models to register as engines: B24_ENGINE_MODELS, or else the first chat model of each
 * provider the gateway has enabled (in the order GET /v1/models lists them).
 */
export async function engineModels(configured: readonly string[] | undefined, gateway: OpenAI): Promise<string[]> {
  if (configured !== undefined) return [...configured];
  const first = new Map<string, string>();
  for await (const model of gateway.models.list()) {
    const provider = providerOf(model.id);
    if (provider !== undefined && !NOT_CHAT.test(model.id) && !first.has(provider)) first.set(provider, model.id);
  }
  if (first.size === 0) {
    throw new Error('the gateway lists no chat model: configure a provider, or set B24_ENGINE_MODELS');
  }
  return [...first.values()];
}
