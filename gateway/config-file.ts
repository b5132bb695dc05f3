import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { type Env, GIGACHAT_SCOPES, isGigaChatAuthorizationKey, readEnv } from './lib/env.ts';

/*
 * The optional JSON file named by GATEWAY_CONFIG: model aliases with fallbacks, client keys with
 * their limits and own upstream credentials, the limits every key gets unless it says otherwise,
 * and the operator's upstream credentials. Validated once at start-up; no message echoes a secret.
 */

type GigaChatScope = (typeof GIGACHAT_SCOPES)[number];

/** A GigaChat account a client key brings: its authorization key (Base64 of `client_id:client_secret`) and scope. */
export interface OwnGigaChat {
  credentials: string;
  scope: GigaChatScope;
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

export interface ClientLimits {
  /** Glob patterns (`*` = any run of characters, case-insensitive) of model or alias names; undefined = every model. */
  models?: readonly string[];
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Prompt plus completion tokens per UTC calendar month. */
  monthlyTokenBudget?: number;
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

/** One of the operator's accounts with an upstream, named in logs, metrics and usage instead of its secret. */
export interface FileCredential<T> {
  name: string;
  /** Its share of the calls; 0: a standby, used only while every weighted one rests. */
  weight: number;
  secret: T;
}

/** The file's `credentials`: the operator's accounts beside GIGACHAT_CREDENTIALS and GEMINI_API_KEY. */
export interface FileCredentials {
  gigachat: readonly FileCredential<OwnGigaChat>[];
  gemini: readonly FileCredential<OwnGemini>[];
  /** How long a credential that answered 429 or 402 without a Retry-After rests. */
  cooldownSeconds: number | undefined;
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
  credentials: FileCredentials;
}

/** The file's parts when there is no file. */
export const EMPTY_FILE: GatewayFile = {
  aliases: [],
  keys: [],
  defaults: {},
  credentials: { gigachat: [], gemini: [], cooldownSeconds: undefined },
};

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

const VARIABLE = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' };
const SECRET = { type: 'string', minLength: 1, maxLength: 4096 };
const SCOPE = { type: 'string', enum: GIGACHAT_SCOPES };
const gigachatAccount = { credentials: SECRET, credentialsEnv: VARIABLE, scope: SCOPE };
const geminiAccount = { apiKey: SECRET, apiKeyEnv: VARIABLE };
const GIGACHAT_SOURCE = [{ required: ['credentials'] }, { required: ['credentialsEnv'] }];
const GEMINI_SOURCE = [{ required: ['apiKey'] }, { required: ['apiKeyEnv'] }];
const WEIGHT = { type: 'integer', minimum: 0, maximum: 1000 };
const namedAccounts = (properties: object, oneOf: object[]) => ({
  type: 'object',
  propertyNames: { pattern: NAME, maxLength: 100 },
  additionalProperties: { type: 'object', additionalProperties: false, properties, oneOf },
});

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
          keyEnv: VARIABLE,
          ...limitsProperties,
          gigachat: {
            type: 'object',
            additionalProperties: false,
            properties: gigachatAccount,
            oneOf: GIGACHAT_SOURCE,
          },
          gemini: { type: 'object', additionalProperties: false, properties: geminiAccount, oneOf: GEMINI_SOURCE },
        },
        oneOf: [{ required: ['key'] }, { required: ['keyEnv'] }],
      },
    },
    credentials: {
      type: 'object',
      additionalProperties: false,
      properties: {
        gigachat: namedAccounts({ ...gigachatAccount, weight: WEIGHT }, GIGACHAT_SOURCE),
        gemini: namedAccounts({ ...geminiAccount, weight: WEIGHT }, GEMINI_SOURCE),
        cooldownSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
      },
    },
  },
};

interface RawGigaChat {
  credentials?: string;
  credentialsEnv?: string;
  scope?: GigaChatScope;
}

interface RawGemini {
  apiKey?: string;
  apiKeyEnv?: string;
}

interface RawFile {
  aliases?: Record<string, { model: string; fallbacks?: string[]; description?: string }>;
  defaults?: ClientLimits;
  keys?: Record<string, ClientLimits & { key?: string; keyEnv?: string; gigachat?: RawGigaChat; gemini?: RawGemini }>;
  credentials?: {
    gigachat?: Record<string, RawGigaChat & { weight?: number }>;
    gemini?: Record<string, RawGemini & { weight?: number }>;
    cooldownSeconds?: number;
  };
}

const validate = new Ajv({
  allErrors: false,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
}).compile<RawFile>(schema);

/** Reads and validates the file; `env` supplies the values given as `…Env` and the default GIGACHAT_SCOPE. */
export function loadConfigFile(path: string, env: Env): GatewayFile {
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
  if (!validate(raw)) {
    // A oneOf's branches fail first; the oneOf says what is wrong.
    const errors = validate.errors ?? [];
    throw new ConfigFileError(`"${path}": ${describe(errors.find((error) => error.keyword === 'oneOf') ?? errors[0])}`);
  }

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
  const read = accountReader(path, env);
  const keys = Object.entries(raw.keys ?? {}).map(([name, { key, keyEnv, gigachat, gemini, ...limits }]) => {
    const value = key ?? fileVariable(env, keyEnv);
    if (value === undefined || value === '') {
      throw new ConfigFileError(`"${path}": key "${name}" reads ${keyEnv}, which is not set`);
    }
    if (value.length < 8 || /\s/.test(value)) {
      throw new ConfigFileError(`"${path}": key "${name}" from ${keyEnv} is shorter than 8 characters or has spaces`);
    }
    const own: OwnCredentials = {};
    if (gigachat !== undefined) own.gigachat = read.gigachat(`keys.${name}.gigachat`, gigachat);
    if (gemini !== undefined) own.gemini = read.gemini(`keys.${name}.gemini`, gemini);
    return { name, key: value, ...limits, ...(gigachat === undefined && gemini === undefined ? {} : { own }) };
  });
  const credentials: FileCredentials = {
    gigachat: Object.entries(raw.credentials?.gigachat ?? {}).map(([name, account]) => ({
      name,
      weight: account.weight ?? 1,
      secret: read.gigachat(`credentials.gigachat.${name}`, account),
    })),
    gemini: Object.entries(raw.credentials?.gemini ?? {}).map(([name, account]) => ({
      name,
      weight: account.weight ?? 1,
      secret: read.gemini(`credentials.gemini.${name}`, account),
    })),
    cooldownSeconds: raw.credentials?.cooldownSeconds,
  };
  return { aliases, keys, defaults: raw.defaults ?? {}, credentials };
}

/** The value of a variable the file names (`keyEnv`, `credentialsEnv`, `apiKeyEnv`): not a declared one, so read here. */
function fileVariable(env: Env, name: string | undefined): string | undefined {
  return name === undefined ? undefined : env[name]?.trim();
}

/** Reads the secrets of the file's accounts (`…Env` from `env`); `at` is the field's place, for messages. */
function accountReader(path: string, env: Env) {
  const secretAt = (at: string, value: string | undefined, variable: string | undefined): string => {
    const secret = value ?? fileVariable(env, variable);
    if (secret === undefined || secret === '') {
      throw new ConfigFileError(`"${path}": ${at} reads ${variable}, which is not set`);
    }
    return secret;
  };
  const from = (variable: string | undefined) => (variable === undefined ? '' : ` (from ${variable})`);
  return {
    gigachat(at: string, account: RawGigaChat): OwnGigaChat {
      const credentials = secretAt(at, account.credentials, account.credentialsEnv);
      if (!isGigaChatAuthorizationKey(credentials)) {
        throw new ConfigFileError(
          `"${path}": ${at}${from(account.credentialsEnv)} is not a GigaChat authorization key (Base64 of client_id:client_secret)`,
        );
      }
      return { credentials, scope: account.scope ?? readEnv(env, 'GIGACHAT_SCOPE') };
    },
    gemini(at: string, account: RawGemini): OwnGemini {
      const apiKey = secretAt(at, account.apiKey, account.apiKeyEnv);
      if (/\s/.test(apiKey))
        throw new ConfigFileError(`"${path}": ${at}${from(account.apiKeyEnv)} contains whitespace`);
      return { apiKey };
    },
  };
}

// The key's value is never part of the message: ajv's `data` is not used.
function describe(error: ErrorObject | undefined): string {
  if (error === undefined) return 'invalid';
  const at = error.instancePath === '' ? 'the top level' : error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    return `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}" at ${at}`;
  }
  if (error.keyword === 'oneOf') return `${at} needs exactly one of ${sourcesAt(error.instancePath)}`;
  if (error.keyword === 'enum' && error.instancePath.endsWith('/scope')) {
    return `${at} must be one of ${GIGACHAT_SCOPES.join(', ')}`;
  }
  if (error.propertyName !== undefined || error.keyword === 'propertyNames') {
    return `bad name "${error.propertyName ?? ''}" at ${at}: use letters, digits and . _ : @ -`;
  }
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/key')) {
    return `${at} must be at least 8 characters without spaces`;
  }
  return `${at} ${error.message ?? 'is invalid'}`;
}

/** The two ways a secret may be given at a place of the file (ajv's instancePath). */
function sourcesAt(instancePath: string): string {
  const [part, name, provider] = instancePath.slice(1).split('/');
  const kind = part === 'credentials' ? name : part === 'keys' ? provider : undefined;
  if (kind === 'gigachat') return '"credentials" and "credentialsEnv"';
  if (kind === 'gemini') return '"apiKey" and "apiKeyEnv"';
  return '"key" and "keyEnv"';
}
