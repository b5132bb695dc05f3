import { isAbsolute, resolve } from 'node:path';
import { decodeKey } from '../gateway/lib/secrets/secret-keys.ts';
import { engineCodeFor } from './install/engine-code.ts';

/*
 * The Bitrix24 app's configuration, read once at start-up. Like the gateway's, a bad value stops
 * start-up with one line naming the variable, and secrets are never echoed in that line.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** The Bitrix24 OAuth servers the app trusts besides the host of B24_OAUTH_URL (bitrix24.md §3.4). */
export const BITRIX24_OAUTH_HOSTS: readonly string[] = ['oauth.bitrix.info', 'oauth.bitrix24.tech'];

export interface B24Config {
  /** Where Bitrix24 reaches this service; engine URLs and event handlers are built from it. */
  publicUrl: URL;
  /** The app's OAuth keys; undefined when only webhook-registered engines are served. */
  oauth: { clientId: string; clientSecret: string } | undefined;
  /** B24_OAUTH_URL: the token endpoint used when a portal's own OAuth server is not trusted. */
  oauthUrl: URL;
  /** Hosts (with port when not 443) of the OAuth servers the app trusts. */
  trustedOAuthHosts: readonly string[];
  /** Models to register as engines; undefined means the first chat model of each provider. */
  engineModels: readonly string[] | undefined;
  /** The gateway's base URL (without /v1); undefined means this same process. */
  gatewayUrl: URL | undefined;
  gatewayApiKey: string | undefined;
  /** Engine requests per minute and portal before 429. */
  rateLimitPerMinute: number;
  /** STORE_URL, shared with the gateway and the CLI. */
  store: B24StoreTarget;
  /** B24_SIGNING_KEY: the key of engine URLs and page sessions; undefined keeps a random one in the store. */
  signingKey: Buffer | undefined;
}

/** A SQLite file (one instance) or Redis (several instances), as STORE_URL names it. */
export type B24StoreTarget = { kind: 'sqlite'; path: string } | { kind: 'redis'; url: string };

/** A configuration value that stops start-up; the message starts with the variable's name. */
export class B24ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Reads the Bitrix24 app's settings; undefined when PUBLIC_URL is not set (the app is off). */
export function loadB24Config(env: Env, cwd: string = process.cwd()): B24Config | undefined {
  const publicUrl = readPublicUrl(env);
  const oauthUrl = readUrl(env, 'B24_OAUTH_URL', 'https://oauth.bitrix.info/oauth/token/');
  if (oauthUrl.protocol !== 'https:' && !isLoopbackHost(oauthUrl.hostname)) {
    throw new B24ConfigError(
      'B24_OAUTH_URL',
      'tokens go there: use https:// (plain http only for a loopback test server)',
    );
  }
  const settings = {
    oauth: readOAuthKeys(env),
    oauthUrl,
    trustedOAuthHosts: [...new Set([oauthUrl.host, ...BITRIX24_OAUTH_HOSTS])],
    engineModels: readModels(env),
    gatewayUrl: read(env, 'B24_GATEWAY_URL') === undefined ? undefined : readUrl(env, 'B24_GATEWAY_URL', ''),
    gatewayApiKey: read(env, 'B24_GATEWAY_API_KEY'),
    rateLimitPerMinute: readInteger(env, 'B24_RATE_LIMIT', 60, 1, 100_000),
    store: readStore(env, cwd),
    signingKey: readSigningKey(env),
  };
  return publicUrl === undefined ? undefined : { publicUrl, ...settings };
}

/** True for names only this machine can reach. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.startsWith('127.') || hostname === '[::1]' || hostname === '::1';
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readUrl(env: Env, name: string, fallback: string): URL {
  const raw = read(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new B24ConfigError(name, `not a valid URL: "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new B24ConfigError(name, `expected an http:// or https:// URL, got "${raw}"`);
  }
  if (url.username !== '' || url.password !== '') throw new B24ConfigError(name, 'must not carry a user or password');
  return url;
}

function readPublicUrl(env: Env): URL | undefined {
  if (read(env, 'PUBLIC_URL') === undefined) return undefined;
  const url = readUrl(env, 'PUBLIC_URL', '');
  if (url.search !== '' || url.hash !== '') {
    throw new B24ConfigError('PUBLIC_URL', 'expected a base address without ?query or #fragment');
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

function readOAuthKeys(env: Env): B24Config['oauth'] {
  const clientId = read(env, 'B24_CLIENT_ID');
  const clientSecret = read(env, 'B24_CLIENT_SECRET');
  if (clientId === undefined && clientSecret === undefined) return undefined;
  if (clientId === undefined) throw new B24ConfigError('B24_CLIENT_ID', 'is required when B24_CLIENT_SECRET is set');
  if (clientSecret === undefined) {
    throw new B24ConfigError('B24_CLIENT_SECRET', 'is required when B24_CLIENT_ID is set');
  }
  if (!/^(local|app)\.[\w.-]+$/.test(clientId)) {
    throw new B24ConfigError('B24_CLIENT_ID', 'expected the client_id Bitrix24 shows, "local.…" or "app.…"');
  }
  return { clientId, clientSecret };
}

function readModels(env: Env): readonly string[] | undefined {
  const raw = read(env, 'B24_ENGINE_MODELS');
  if (raw === undefined) return undefined;
  const models = raw
    .split(',')
    .map((model) => model.trim())
    .filter((model) => model !== '');
  const codes = new Map<string, string>();
  for (const model of models) {
    if (!/^[\w./:-]{1,100}$/.test(model)) {
      throw new B24ConfigError('B24_ENGINE_MODELS', `"${model}" is not a model name`);
    }
    const code = engineCodeFor(model);
    const other = codes.get(code);
    if (other !== undefined) {
      throw new B24ConfigError('B24_ENGINE_MODELS', `"${other}" and "${model}" would get the same engine code`);
    }
    codes.set(code, model);
  }
  if (models.length === 0) throw new B24ConfigError('B24_ENGINE_MODELS', 'lists no model');
  return models;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new B24ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function readSigningKey(env: Env): Buffer | undefined {
  const raw = read(env, 'B24_SIGNING_KEY');
  if (raw === undefined) return undefined;
  const key = decodeKey(raw);
  if (key === undefined) {
    throw new B24ConfigError('B24_SIGNING_KEY', 'expected 32 random bytes as base64 (openssl rand -base64 32) or hex');
  }
  return key;
}

/** The same STORE_URL rules as the gateway's config: the app, the gateway and the CLI share the store. */
function readStore(env: Env, cwd: string): B24StoreTarget {
  const raw = read(env, 'STORE_URL') ?? 'sqlite://data/gateway.sqlite';
  if (/^rediss?:\/\//.test(raw)) {
    if (!URL.canParse(raw)) throw new B24ConfigError('STORE_URL', 'not a valid redis:// URL');
    return { kind: 'redis', url: raw };
  }
  const path = raw.startsWith('sqlite://') ? raw.slice('sqlite://'.length) : '';
  if (path === '' || path.endsWith('/')) {
    throw new B24ConfigError('STORE_URL', 'expected sqlite://<file>, sqlite:///<absolute file> or redis://host:port');
  }
  return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
}
