import { NotFoundError, ServiceUnavailableError } from '../openai/errors.ts';
import { parseModelName } from '../openai/model-name.ts';
import type { OpenAIModel } from '../openai/types.ts';
import type { Provider } from './provider.ts';

/** Which provider serves a model id without a `provider/` prefix (the explicit form always works). */
const MODEL_ROUTES: ReadonlyArray<{ provider: string; pattern: RegExp }> = [
  { provider: 'gigachat', pattern: /^(gigachat|embeddings|gigaembeddings)/i },
  { provider: 'gemini', pattern: /^(gemini-|gemma-|text-embedding-|tunedModels\/)/i },
];

/** A provider that is known but not configured, and why. */
export interface DisabledProvider {
  name: string;
  displayName: string;
  reason: string;
}

export interface ResolvedModel {
  provider: Provider;
  /** The model id the upstream knows (without a `provider/` prefix). */
  model: string;
}

/** Maps model names to providers and merges their model lists. */
export class ProviderRegistry {
  readonly #providers: ReadonlyMap<string, Provider>;
  readonly #disabled: ReadonlyMap<string, DisabledProvider>;

  constructor(providers: readonly Provider[], disabled: readonly DisabledProvider[]) {
    this.#providers = new Map(providers.map((provider) => [provider.name, provider]));
    this.#disabled = new Map(disabled.map((entry) => [entry.name, entry]));
  }

  get providers(): readonly Provider[] {
    return [...this.#providers.values()];
  }

  get disabled(): readonly DisabledProvider[] {
    return [...this.#disabled.values()];
  }

  /**
   * Finds the provider for a client's model name and the upstream id to call (openai/model-name.ts):
   * 400 for a name outside the grammar, 404 or 503 with the reason when nothing serves it.
   */
  resolve(requested: string): ResolvedModel {
    const { provider: explicit, model } = parseModelName(requested);
    const name = explicit ?? MODEL_ROUTES.find((route) => route.pattern.test(model))?.provider;
    const provider = name === undefined ? undefined : this.#providers.get(name);
    if (provider !== undefined) return { provider, model };
    const disabled = name === undefined ? undefined : this.#disabled.get(name);
    if (disabled !== undefined) {
      throw new ServiceUnavailableError(
        `${disabled.displayName} is not available on this gateway: ${disabled.reason}.`,
        {
          param: 'model',
          code: 'provider_not_configured',
          headers: { 'x-should-retry': 'false' },
        },
      );
    }
    throw new NotFoundError(
      `The model '${requested}' does not exist or no provider of this gateway serves it. ` +
        'GET /v1/models lists the available models.',
      { param: 'model', code: 'model_not_found' },
    );
  }

  /**
   * Every model of every enabled provider. A provider that cannot list its models right now is
   * left out (and reported) rather than hiding the others; if none can, the first failure is thrown.
   */
  async listModels(onFailure: (provider: Provider, error: unknown) => void = () => {}): Promise<OpenAIModel[]> {
    const providers = this.providers;
    const results = await Promise.allSettled(providers.map((provider) => provider.listModels()));
    const models: OpenAIModel[] = [];
    for (const [index, result] of results.entries()) {
      if (result.status === 'fulfilled') models.push(...result.value);
      else onFailure(providers[index] as Provider, result.reason);
    }
    const failure = results.find((result) => result.status === 'rejected');
    if (models.length === 0 && failure !== undefined) throw failure.reason;
    return models;
  }
}
