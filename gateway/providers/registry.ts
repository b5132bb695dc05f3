import type { Config, GeminiSettings, GigaChatSettings, OperatorCredential, OwnCredentials } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import type { GatewayMetrics } from '../lib/metrics.ts';
import type { SecretBox } from '../lib/secrets/secret-box.ts';
import type { Store } from '../lib/store.ts';
import { NotFoundError, ServiceUnavailableError } from '../openai/errors.ts';
import { parseModelName } from '../openai/model-name.ts';
import type { OpenAIModel } from '../openai/types.ts';
import { createGeminiProvider } from './gemini/index.ts';
import { createGigaChatProvider } from './gigachat/index.ts';
import type { Provider } from './provider.ts';

/** What building a provider may use. */
export interface ProviderDeps {
  config: Config;
  store: Store;
  /** Seals what a provider keeps in the store (GigaChat's access tokens). */
  box: SecretBox;
  logger: Logger;
  metrics: GatewayMetrics;
}

/**
 * One provider the gateway knows: a third one is a folder plus one entry in PROVIDERS. `S` is what
 * one of its providers calls with: the configured endpoint and one credential.
 */
export interface ProviderEntry<S = unknown> {
  /** Routing name, as in `gigachat/GigaChat-2-Max`. */
  name: string;
  displayName: string;
  /** The model ids it serves without a `provider/` prefix (the explicit form always works). */
  models: RegExp;
  /** Why it is off when the operator has no credential for it (keys with their own still use it). */
  disabledReason: string;
  /** The operator's credentials for it, in order; one provider is built per credential. */
  credentials(config: Config): readonly OperatorCredential<S>[];
  /** The settings of a key's own credential for it, on the configured endpoint; undefined when the key brings none. */
  own(config: Config, own: OwnCredentials): S | undefined;
  /** A provider that calls with these settings (one credential). */
  create(deps: ProviderDeps, settings: S): Provider;
  /** A line for the start-up log about how it is set up, when there is one to say. */
  notice?(config: Config): string | undefined;
}

/** Types an entry's settings; the table holds entries of every settings type. */
function defineProvider<S>(entry: ProviderEntry<S>): ProviderEntry {
  return entry;
}

/** How long an image URL the gateway downloads on a client's behalf may take (Gemini takes images inline, GigaChat uploaded). */
const IMAGE_DOWNLOAD_TIMEOUT_MS = 15_000;
/** The largest image Gemini gets downloaded (GigaChat's limit is its own, attachment-types.ts). */
const GEMINI_IMAGE_BYTES = 10 * 1024 * 1024;

/** A URL without its user and password, for logs. */
function redactUrl(raw: string): string {
  const url = new URL(raw);
  url.username = '';
  url.password = '';
  return url.href;
}

/** Every provider, in the order their models are listed. */
export const PROVIDERS: readonly ProviderEntry[] = [
  defineProvider<GigaChatSettings>({
    name: 'gigachat',
    displayName: 'GigaChat',
    models: /^(gigachat|embeddings|gigaembeddings)/i,
    disabledReason: 'GIGACHAT_CREDENTIALS is not set',
    credentials: (config) => config.gigachat.credentials,
    own: (config, own) => (own.gigachat === undefined ? undefined : { ...config.gigachat.endpoint, ...own.gigachat }),
    create: ({ config, store, box, logger, metrics }, settings) =>
      createGigaChatProvider({
        settings,
        store,
        box,
        logger,
        timeoutMs: config.upstreamTimeoutMs,
        fileRetentionMs: config.gigachatFileRetentionMs,
        downloads: { timeoutMs: IMAGE_DOWNLOAD_TIMEOUT_MS },
        onTokenFetch: (outcome) => metrics.tokenRefresh('gigachat', outcome),
      }),
  }),
  defineProvider<GeminiSettings>({
    name: 'gemini',
    displayName: 'Gemini',
    models: /^(gemini-|gemma-|text-embedding-|tunedModels\/)/i,
    disabledReason: 'GEMINI_API_KEY is not set',
    credentials: (config) => config.gemini.credentials,
    own: (config, own) => (own.gemini === undefined ? undefined : { ...config.gemini.endpoint, ...own.gemini }),
    create: ({ config }, settings) =>
      createGeminiProvider({
        settings,
        timeoutMs: config.upstreamTimeoutMs,
        media: { maxBytes: GEMINI_IMAGE_BYTES, timeoutMs: IMAGE_DOWNLOAD_TIMEOUT_MS },
      }),
    notice: ({ gemini }) => {
      const proxy = gemini.endpoint.proxy.httpsProxy ?? gemini.endpoint.proxy.httpProxy;
      return proxy === undefined ? undefined : `Gemini: calls go through the proxy ${redactUrl(proxy)}`;
    },
  }),
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
   * `unconfigured` may serve a provider the operator has no credential for (a key's own credential).
   */
  resolve(requested: string, unconfigured?: (name: string) => Provider | undefined): ResolvedModel {
    const { provider: explicit, model } = parseModelName(requested);
    const name = explicit ?? PROVIDERS.find((entry) => entry.models.test(model))?.name;
    const provider =
      name === undefined ? undefined : (this.#providers.get(name) ?? this.#disabledServedBy(name, unconfigured));
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

  #disabledServedBy(
    name: string,
    unconfigured: ((name: string) => Provider | undefined) | undefined,
  ): Provider | undefined {
    return this.#disabled.has(name) ? unconfigured?.(name) : undefined;
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
