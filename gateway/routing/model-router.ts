import type { AliasSettings } from '../config.ts';
import { BadRequestError, GatewayError, ServiceUnavailableError } from '../openai/errors.ts';
import type { OpenAIModel } from '../openai/types.ts';
import type { Provider } from '../providers/provider.ts';
import type { ProviderRegistry } from '../providers/registry.ts';

/** One model a request may be sent to. */
export interface Target {
  /** A provider of the target's name; each attempt goes to the instance of the account it is sent with (accounts.ts). */
  provider: Provider;
  /** The model id the upstream knows. */
  model: string;
}

/** Where a request goes: one target, or an alias's chain tried in order. */
export interface Route {
  /** The alias the client asked for, when it asked for one. */
  alias?: string;
  targets: readonly Target[];
}

/**
 * The name a route is judged by (a client key's allowed models, the logs): the alias as configured,
 * or `provider/model` with the upstream id that will be called, whatever spelling the client used.
 */
export function routeName(route: Route): string {
  if (route.alias !== undefined) return route.alias;
  const [target] = route.targets as [Target];
  return `${target.provider.name}/${target.model}`;
}

/** An alias names a model no provider serves; start-up stops (main.ts reports it as GATEWAY_CONFIG). */
export class AliasError extends Error {}

/**
 * Resolves a client's model name: an alias (GATEWAY_CONFIG) becomes its chain, anything else goes
 * to the registry. Aliases are checked once, at start-up; targets of a provider that is not
 * configured are left out of the chain, so `smart` still works when only its fallback's provider is.
 */
export class ModelRouter {
  readonly #registry: ProviderRegistry;
  readonly #aliases = new Map<string, { settings: AliasSettings; route: Route | GatewayError }>();

  constructor(registry: ProviderRegistry, aliases: readonly AliasSettings[]) {
    this.#registry = registry;
    for (const settings of aliases) {
      const targets: Target[] = [];
      let unavailable: GatewayError | undefined;
      for (const model of [settings.model, ...settings.fallbacks]) {
        try {
          targets.push(registry.resolve(model));
        } catch (error) {
          if (error instanceof BadRequestError) throw new AliasError(`alias "${settings.name}": ${error.message}`);
          if (!(error instanceof ServiceUnavailableError)) {
            throw new AliasError(`alias "${settings.name}": no provider serves the model "${model}"`);
          }
          unavailable ??= error;
        }
      }
      const route = targets.length > 0 ? { alias: settings.name, targets } : (unavailable as GatewayError);
      this.#aliases.set(settings.name.toLowerCase(), { settings, route });
    }
  }

  get registry(): ProviderRegistry {
    return this.#registry;
  }

  /**
   * Throws the registry's 400 for a name outside the grammar, its 404 or 503 for a name nothing serves.
   * `unconfigured` may serve a provider the operator has no credential for (a key's own one); aliases
   * keep the chains checked at start-up.
   */
  route(requested: string, unconfigured?: (provider: string) => Provider | undefined): Route {
    const alias = this.#aliases.get(requested.toLowerCase());
    if (alias === undefined) return { targets: [this.#registry.resolve(requested, unconfigured)] };
    if (alias.route instanceof GatewayError) throw alias.route;
    return alias.route;
  }

  /** The aliases, as `/v1/models` entries (owned by the gateway). */
  aliasModels(): OpenAIModel[] {
    return [...this.#aliases.values()].map(({ settings }) => ({
      id: settings.name,
      object: 'model',
      created: 0,
      owned_by: 'gigagate',
    }));
  }
}
