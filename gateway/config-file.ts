import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { GIGACHAT_SCOPES } from './lib/env.ts';

/*
 * The optional JSON file named by GATEWAY_CONFIG: model aliases with fallbacks, client keys with
 * their limits, and the limits every key gets unless it says otherwise. Validated once at start-up.
 */

export interface ClientLimits {
  /** Glob patterns (`*` = any run of characters, case-insensitive) of model or alias names; undefined = every model. */
  models?: readonly string[];
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Prompt plus completion tokens per UTC calendar month. */
  monthlyTokenBudget?: number;
}

/** A GigaChat account a client key brings: its authorization key (Base64 of `client_id:client_secret`) and scope. */
export interface OwnGigaChat {
  credentials: string;
  scope: (typeof GIGACHAT_SCOPES)[number];
}

/** A Gemini account a client key brings. */
export interface OwnGemini {
  apiKey: string;
}

/** Upstream accounts a key brings: its calls to that provider are billed to them, never to the operator's. */
export interface OwnCredentials {
  gigachat?: OwnGigaChat;
  gemini?: OwnGemini;
}

/**
 * The caller an API key names: what the key check hands to the rest of a request. It never holds
 * the key itself. A record is replaced, not changed, when its key is edited, so it can be the key of
 * caches (compiled rules, providers built on its own credentials).
 */
export interface Client extends ClientLimits {
  /** Shown in logs, metrics and usage instead of the key. */
  name: string;
  /** Upstream accounts of its own; undefined means it spends the operator's. */
  own?: OwnCredentials;
}

/** A key defined at start-up (GATEWAY_API_KEYS or the file). */
export interface ClientSettings extends Client {
  key: string;
}

export interface AliasSettings {
  /** The name clients ask for, e.g. `smart`. */
  name: string;
  /** Tried first. */
  model: string;
  /** Tried in order when the one before fails with 429, 5xx or a timeout. */
  fallbacks: readonly string[];
  description?: string;
}

export interface GatewayFile {
  aliases: readonly AliasSettings[];
  /** Keys defined in the file; their limits are not yet merged with `defaults`. */
  keys: readonly ClientSettings[];
  defaults: ClientLimits;
}

/** A problem with the file; config.ts turns it into a ConfigError naming GATEWAY_CONFIG. */
export class ConfigFileError extends Error {}

const NAME = '^[A-Za-z0-9][A-Za-z0-9._:@-]*$';
const MODEL = '^\\S+$';
const limitsProperties = {
  models: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 1000 },
  requestsPerMinute: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
  tokensPerMinute: { type: 'integer', minimum: 1, maximum: 1_000_000_000_000 },
  monthlyTokenBudget: { type: 'integer', minimum: 1, maximum: 1_000_000_000_000_000 },
};

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    aliases: {
      type: 'object',
      propertyNames: { pattern: NAME, maxLength: 200 },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['model'],
        properties: {
          model: { type: 'string', pattern: MODEL, maxLength: 200 },
          fallbacks: { type: 'array', items: { type: 'string', pattern: MODEL, maxLength: 200 }, maxItems: 10 },
          description: { type: 'string', maxLength: 1000 },
        },
      },
    },
    defaults: { type: 'object', additionalProperties: false, properties: limitsProperties },
    keys: {
      type: 'object',
      propertyNames: { pattern: NAME, maxLength: 200 },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          key: { type: 'string', pattern: '^\\S{8,}$' },
          keyEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          ...limitsProperties,
        },
        oneOf: [{ required: ['key'] }, { required: ['keyEnv'] }],
      },
    },
  },
};

interface RawFile {
  aliases?: Record<string, { model: string; fallbacks?: string[]; description?: string }>;
  defaults?: ClientLimits;
  keys?: Record<string, ClientLimits & { key?: string; keyEnv?: string }>;
}

const validate = new Ajv({
  allErrors: false,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
}).compile<RawFile>(schema);

/** Reads and validates the file; `env` supplies the keys given as `keyEnv`. */
export function loadConfigFile(path: string, env: Readonly<Record<string, string | undefined>>): GatewayFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(`cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigFileError(`"${path}" is not valid JSON: ${(error as Error).message}`);
  }
  if (!validate(raw)) throw new ConfigFileError(`"${path}": ${describe(validate.errors?.[0])}`);

  const aliases = Object.entries(raw.aliases ?? {}).map(([name, alias]) => ({
    name,
    model: alias.model,
    fallbacks: alias.fallbacks ?? [],
    ...(alias.description === undefined ? {} : { description: alias.description }),
  }));
  for (const alias of aliases) {
    const chain = [alias.model, ...alias.fallbacks];
    if (chain.some((model) => model.toLowerCase() === alias.name.toLowerCase())) {
      throw new ConfigFileError(`"${path}": alias "${alias.name}" names itself`);
    }
    if (new Set(chain).size !== chain.length) {
      throw new ConfigFileError(`"${path}": alias "${alias.name}" lists a model twice`);
    }
  }
  const keys = Object.entries(raw.keys ?? {}).map(([name, { key, keyEnv, ...limits }]) => {
    const value = key ?? env[keyEnv as string]?.trim();
    if (value === undefined || value === '') {
      throw new ConfigFileError(`"${path}": key "${name}" reads ${keyEnv}, which is not set`);
    }
    if (value.length < 8 || /\s/.test(value)) {
      throw new ConfigFileError(`"${path}": key "${name}" from ${keyEnv} is shorter than 8 characters or has spaces`);
    }
    return { name, key: value, ...limits };
  });
  return { aliases, keys, defaults: raw.defaults ?? {} };
}

// The key's value is never part of the message: ajv's `data` is not used.
function describe(error: ErrorObject | undefined): string {
  if (error === undefined) return 'invalid';
  const at = error.instancePath === '' ? 'the top level' : error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    return `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}" at ${at}`;
  }
  if (error.keyword === 'oneOf') return `${at} needs exactly one of "key" and "keyEnv"`;
  if (error.propertyName !== undefined || error.keyword === 'propertyNames') {
    return `bad name "${error.propertyName ?? ''}" at ${at}: use letters, digits and . _ : @ -`;
  }
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/key')) {
    return `${at} must be at least 8 characters without spaces`;
  }
  return `${at} ${error.message ?? 'is invalid'}`;
}
