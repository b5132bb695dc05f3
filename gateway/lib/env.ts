import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';

/*
 * Every environment variable the gateway, the Bitrix24 app and its CLI read, declared once with its
 * default and its rule. A bad value stops start-up with one line naming the variable; secret and
 * proxy values are never echoed in it. A leaf: it imports nothing of the gateway, so b24-app may
 * import it too.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration value that stops start-up; the message starts with the variable's name. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const GIGACHAT_SCOPES = ['GIGACHAT_API_PERS', 'GIGACHAT_API_B2B', 'GIGACHAT_API_CORP'] as const;

type Declaration =
  /** Trimmed text; empty counts as unset. */
  | { kind: 'text'; default?: string }
  /** A whole number in a range. */
  | { kind: 'integer'; default: number; min: number; max: number }
  | { kind: 'choice'; choices: readonly string[]; default: string }
  /** 1 (on) or 0 (off); unset is off. */
  | { kind: 'flag' }
  /** An http:// or https:// URL; `bare` ones may not carry a user or password. */
  | { kind: 'url'; default?: string; bare?: true };

const integer = (fallback: number, min: number, max: number) =>
  ({ kind: 'integer', default: fallback, min, max }) as const;

/** The variables, by name. README's "Configuration" documents each one. */
export const VARIABLES = {
  // The gateway
  HOST: { kind: 'text', default: '127.0.0.1' },
  PORT: integer(8080, 0, 65535),
  GATEWAY_API_KEYS: { kind: 'text' },
  GATEWAY_CONFIG: { kind: 'text' },
  GATEWAY_ADMIN_KEY: { kind: 'text' },
  GATEWAY_SECRET_KEY: { kind: 'text' },
  STORE_URL: { kind: 'text', default: 'sqlite://data/gateway.sqlite' },
  FILES_DIR: { kind: 'text', default: 'data/files' },
  // OpenAI keeps stored responses 30 days.
  RESPONSES_RETENTION_HOURS: integer(720, 1, 24 * 365),
  UPSTREAM_RETRIES: integer(2, 0, 10),
  UPSTREAM_RETRY_BASE_MS: integer(500, 1, 60_000),
  UPSTREAM_RETRY_MAX_WAIT_MS: integer(10_000, 0, 600_000),
  UPSTREAM_RETRY_BUDGET_MS: integer(30_000, 0, 3_600_000),
  MAX_BODY_BYTES: integer(20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  UPSTREAM_TIMEOUT_MS: integer(120_000, 100, 3_600_000),
  LOG_LEVEL: { kind: 'choice', choices: LOG_LEVELS, default: 'info' },
  LOG_PROMPTS: { kind: 'flag' },
  // Below Kubernetes' default grace period (30 s), so the drain ends before a SIGKILL would.
  SHUTDOWN_TIMEOUT_MS: integer(25_000, 0, 3_600_000),
  // Node's default backlog (511) overflows under a burst of new streams; Linux caps it at net.core.somaxconn.
  LISTEN_BACKLOG: integer(4096, 1, 65_535),
  GIGACHAT_CREDENTIALS: { kind: 'text' },
  GIGACHAT_SCOPE: { kind: 'choice', choices: GIGACHAT_SCOPES, default: 'GIGACHAT_API_PERS' },
  GIGACHAT_AUTH_URL: { kind: 'url', default: 'https://ngw.devices.sberbank.ru:9443/api/v2/oauth' },
  GIGACHAT_BASE_URL: { kind: 'url', default: 'https://gigachat.devices.sberbank.ru/api/v1' },
  GIGACHAT_CA_FILE: { kind: 'text' },
  GIGACHAT_FILES_RETENTION_HOURS: integer(24, 1, 24 * 365),
  GEMINI_API_KEY: { kind: 'text' },
  GEMINI_BASE_URL: { kind: 'url', default: 'https://generativelanguage.googleapis.com' },
  // Upper case first, as curl reads them; gateway/config.ts parses the proxy URLs.
  HTTPS_PROXY: { kind: 'text' },
  https_proxy: { kind: 'text' },
  HTTP_PROXY: { kind: 'text' },
  http_proxy: { kind: 'text' },
  NO_PROXY: { kind: 'text' },
  no_proxy: { kind: 'text' },
  // The Bitrix24 app
  PUBLIC_URL: { kind: 'url', bare: true },
  B24_OAUTH_URL: { kind: 'url', default: 'https://oauth.bitrix.info/oauth/token/', bare: true },
  B24_CLIENT_ID: { kind: 'text' },
  B24_CLIENT_SECRET: { kind: 'text' },
  B24_ENGINE_MODELS: { kind: 'text' },
  B24_GATEWAY_URL: { kind: 'url', bare: true },
  B24_GATEWAY_API_KEY: { kind: 'text' },
  B24_RATE_LIMIT: integer(60, 1, 100_000),
  B24_SIGNING_KEY: { kind: 'text' },
  // Its CLI (npm run b24)
  B24_WEBHOOK_URL: { kind: 'text' },
} as const satisfies Record<string, Declaration>;

export type VariableName = keyof typeof VARIABLES;

type ValueOf<D> = D extends { kind: 'integer' }
  ? number
  : D extends { kind: 'choice'; choices: readonly (infer T)[] }
    ? T
    : D extends { kind: 'flag' }
      ? boolean
      : D extends { kind: 'url'; default: string }
        ? URL
        : D extends { kind: 'url' }
          ? URL | undefined
          : D extends { kind: 'text'; default: string }
            ? string
            : string | undefined;

/** One variable's value by its declaration: the default when unset, ConfigError when bad. */
export function readEnv<N extends VariableName>(env: Env, name: N): ValueOf<(typeof VARIABLES)[N]> {
  const declaration: Declaration = VARIABLES[name];
  const raw = env[name]?.trim() || undefined;
  return readValue(name, declaration, raw) as ValueOf<(typeof VARIABLES)[N]>;
}

function readValue(name: string, declaration: Declaration, raw: string | undefined): unknown {
  switch (declaration.kind) {
    case 'text':
      return raw ?? declaration.default;
    case 'integer': {
      if (raw === undefined) return declaration.default;
      const { min, max } = declaration;
      const value = Number(raw);
      if (!/^\d+$/.test(raw) || value < min || value > max) {
        throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
      }
      return value;
    }
    case 'choice':
      if (raw === undefined) return declaration.default;
      if (!declaration.choices.includes(raw)) {
        throw new ConfigError(name, `expected one of ${declaration.choices.join(', ')}, got "${raw}"`);
      }
      return raw;
    case 'flag':
      if (raw === undefined || raw === '0') return false;
      if (raw === '1') return true;
      throw new ConfigError(name, `expected 1 (on) or 0 (off), got "${raw}"`);
    case 'url': {
      const text = raw ?? declaration.default;
      return text === undefined ? undefined : parseUrl(name, text, declaration.bare === true);
    }
  }
}

function parseUrl(name: string, raw: string, bare: boolean): URL {
  if (!URL.canParse(raw)) throw new ConfigError(name, `not a valid URL: "${raw}"`);
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `expected an http:// or https:// URL, got "${raw}"`);
  }
  if (bare && (url.username !== '' || url.password !== ''))
    throw new ConfigError(name, 'must not carry a user or password');
  return url;
}

/** True for hosts only this machine can reach: `localhost`, 127.0.0.0/8 and ::1 (URL hostnames included). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** A SQLite file (one instance) or Redis (several instances), as STORE_URL names it. */
export type StoreSettings =
  | {
      kind: 'sqlite';
      /** Absolute path of the SQLite file. */
      path: string;
    }
  | {
      kind: 'redis';
      /** `redis://` or `rediss://` URL, password included. */
      url: string;
    };

/** STORE_URL, shared by the gateway, the Bitrix24 app and the CLI; a relative SQLite path is taken from `cwd`. */
export function readStoreUrl(env: Env, cwd: string): StoreSettings {
  const raw = readEnv(env, 'STORE_URL');
  if (raw.startsWith('redis://') || raw.startsWith('rediss://')) {
    if (!URL.canParse(raw)) throw new ConfigError('STORE_URL', 'not a valid redis:// URL');
    return { kind: 'redis', url: raw };
  }
  // Never echoed: a mistyped redis:// URL may carry its password.
  if (!raw.startsWith('sqlite://')) {
    throw new ConfigError(
      'STORE_URL',
      'expected sqlite://<file> (relative), sqlite:///<absolute file> or redis://host:port',
    );
  }
  const path = raw.slice('sqlite://'.length);
  if (path === '' || path.endsWith('/')) throw new ConfigError('STORE_URL', `no file name in "${raw}"`);
  return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
}

export interface ClientKey {
  /** Shown in logs instead of the key. */
  name: string;
  key: string;
}

/** GATEWAY_API_KEYS: comma-separated `name:key` or bare `key` entries (named `key-<n>`). */
export function readClientKeys(env: Env): ClientKey[] {
  const raw = readEnv(env, 'GATEWAY_API_KEYS');
  if (raw === undefined) return [];
  const keys: ClientKey[] = [];
  for (const [index, entry] of raw.split(',').entries()) {
    const item = entry.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    const name = colon === -1 ? `key-${index + 1}` : item.slice(0, colon).trim();
    const key = colon === -1 ? item : item.slice(colon + 1).trim();
    if (name === '' || key === '' || /\s/.test(key)) {
      throw new ConfigError('GATEWAY_API_KEYS', `entry ${index + 1} is not "name:key" or "key"`);
    }
    if (keys.some((known) => known.name === name)) {
      throw new ConfigError('GATEWAY_API_KEYS', `the name "${name}" is used twice`);
    }
    keys.push({ name, key });
  }
  return keys;
}

/** True for GigaChat Studio's authorization key: Base64 of `client_id:client_secret`. */
export function isGigaChatAuthorizationKey(text: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').toString('utf8').includes(':');
}
