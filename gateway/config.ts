import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import {
  type AliasSettings,
  type ClientLimits,
  type ClientSettings,
  ConfigFileError,
  type GatewayFile,
  loadConfigFile,
} from './config-file.ts';

export type { AliasSettings, ClientLimits, ClientSettings };

/*
 * The whole runtime configuration, read once from the environment at start-up. A bad value stops
 * start-up with one line naming the variable; secrets are never echoed in that line.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type GigaChatScope = 'GIGACHAT_API_PERS' | 'GIGACHAT_API_B2B' | 'GIGACHAT_API_CORP';

export interface ClientKey {
  /** Shown in logs instead of the key. */
  name: string;
  key: string;
}

export interface GigaChatSettings {
  credentials: string;
  scope: GigaChatScope;
  authUrl: URL;
  baseUrl: URL;
  /** PEM text of GIGACHAT_CA_FILE, trusted in addition to the system roots. */
  ca: string | undefined;
}

export interface GeminiSettings {
  apiKey: string;
  /** API base without the version segment. */
  baseUrl: URL;
  proxy: ProxySettings;
}

/** The standard proxy variables; Gemini's calls honour them (GigaChat's never do). */
export interface ProxySettings {
  httpsProxy: string | undefined;
  httpProxy: string | undefined;
  noProxy: string | undefined;
}

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

/** How failed upstream calls are retried (gateway/routing/retry.ts). */
export interface RetrySettings {
  /** Retries after the first attempt, per model. */
  retries: number;
  /** The first backoff; each retry doubles it, with full jitter. */
  baseDelayMs: number;
  /** The longest single wait, Retry-After included; a longer Retry-After goes back to the client as 429. */
  maxWaitMs: number;
  /** All attempts and waits of one request, fallbacks included, end within this. */
  budgetMs: number;
}

export interface Config {
  port: number;
  host: string;
  /** Every client key, from GATEWAY_API_KEYS and the GATEWAY_CONFIG file. */
  apiKeys: readonly ClientKey[];
  /** The same keys with their limits, the file's `defaults` filled in per field. */
  clients: readonly ClientSettings[];
  /** The limits when no keys are configured (an open API on loopback). */
  defaultLimits: ClientLimits;
  /** GATEWAY_ADMIN_KEY: the bearer key of the admin endpoints. */
  adminKey: string | undefined;
  aliases: readonly AliasSettings[];
  retry: RetrySettings;
  store: StoreSettings;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  logLevel: LogLevel;
  /** LOG_PROMPTS=1: one extra log line per request with its prompt; otherwise no prompt text is ever logged. */
  logPrompts: boolean;
  /** How long a shutdown waits for requests and streams in flight before it ends them. */
  shutdownTimeoutMs: number;
  /** Undefined when GIGACHAT_CREDENTIALS is not set: GigaChat is disabled. */
  gigachat: GigaChatSettings | undefined;
  /** Undefined when GEMINI_API_KEY is not set: Gemini is disabled. */
  gemini: GeminiSettings | undefined;
}

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

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const GIGACHAT_SCOPES: readonly GigaChatScope[] = ['GIGACHAT_API_PERS', 'GIGACHAT_API_B2B', 'GIGACHAT_API_CORP'];

/** Reads and validates the configuration; throws ConfigError on the first bad value. */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const host = read(env, 'HOST') ?? '127.0.0.1';
  const file = readConfigFile(env, cwd);
  const clients = mergeClients(readClientKeys(env), file);
  const apiKeys = clients.map(({ name, key }) => ({ name, key }));
  if (apiKeys.length === 0 && !isLoopback(host)) {
    throw new ConfigError(
      'GATEWAY_API_KEYS',
      `no client keys are set, and HOST=${host} is not a loopback address; set keys or listen on 127.0.0.1`,
    );
  }
  return {
    port: readInteger(env, 'PORT', 8080, 0, 65535),
    host,
    apiKeys,
    clients,
    defaultLimits: file.defaults,
    adminKey: readAdminKey(env, apiKeys),
    aliases: file.aliases,
    retry: {
      retries: readInteger(env, 'UPSTREAM_RETRIES', 2, 0, 10),
      baseDelayMs: readInteger(env, 'UPSTREAM_RETRY_BASE_MS', 500, 1, 60_000),
      maxWaitMs: readInteger(env, 'UPSTREAM_RETRY_MAX_WAIT_MS', 10_000, 0, 600_000),
      budgetMs: readInteger(env, 'UPSTREAM_RETRY_BUDGET_MS', 30_000, 0, 3_600_000),
    },
    store: readStore(env, cwd),
    maxBodyBytes: readInteger(env, 'MAX_BODY_BYTES', 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    upstreamTimeoutMs: readInteger(env, 'UPSTREAM_TIMEOUT_MS', 120_000, 100, 3_600_000),
    logLevel: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logPrompts: readFlag(env, 'LOG_PROMPTS'),
    // Below Kubernetes' default grace period (30 s), so the drain ends before a SIGKILL would.
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 0, 3_600_000),
    gigachat: readGigaChat(env),
    gemini: readGemini(env),
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function readFlag(env: Env, name: string): boolean {
  const raw = read(env, name);
  if (raw === undefined || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigError(name, `expected 1 (on) or 0 (off), got "${raw}"`);
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function readUrl(env: Env, name: string, fallback: string): URL {
  const raw = read(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a valid URL: "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `expected an http:// or https:// URL, got "${raw}"`);
  }
  return url;
}

function readClientKeys(env: Env): ClientKey[] {
  const raw = read(env, 'GATEWAY_API_KEYS');
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

function readConfigFile(env: Env, cwd: string): GatewayFile {
  const path = read(env, 'GATEWAY_CONFIG');
  if (path === undefined) return { aliases: [], keys: [], defaults: {} };
  try {
    return loadConfigFile(resolve(cwd, path), env);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new ConfigError('GATEWAY_CONFIG', error.message);
    throw error;
  }
}

/** GATEWAY_API_KEYS and the file's keys as one list, each with the file's default limits filled in. */
function mergeClients(envKeys: readonly ClientKey[], file: GatewayFile): ClientSettings[] {
  const clients: ClientSettings[] = [...envKeys, ...file.keys].map((client) => ({ ...file.defaults, ...client }));
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const client of clients) {
    if (names.has(client.name)) {
      throw new ConfigError('GATEWAY_CONFIG', `the key name "${client.name}" is also in GATEWAY_API_KEYS`);
    }
    if (keys.has(client.key)) {
      throw new ConfigError('GATEWAY_CONFIG', `the key of "${client.name}" is the same as another client's`);
    }
    names.add(client.name);
    keys.add(client.key);
  }
  return clients;
}

function readAdminKey(env: Env, clients: readonly ClientKey[]): string | undefined {
  const key = read(env, 'GATEWAY_ADMIN_KEY');
  if (key === undefined) return undefined;
  if (key.length < 16 || /\s/.test(key)) {
    throw new ConfigError('GATEWAY_ADMIN_KEY', 'use at least 16 characters without spaces');
  }
  if (clients.some((client) => client.key === key)) {
    throw new ConfigError('GATEWAY_ADMIN_KEY', 'must differ from every client key');
  }
  return key;
}

function readStore(env: Env, cwd: string): StoreSettings {
  const raw = read(env, 'STORE_URL') ?? 'sqlite://data/gateway.sqlite';
  if (raw.startsWith('redis://') || raw.startsWith('rediss://')) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('STORE_URL', 'not a valid redis:// URL');
    }
    return { kind: 'redis', url: raw };
  }
  if (!raw.startsWith('sqlite://')) {
    throw new ConfigError(
      'STORE_URL',
      `expected sqlite://<file> (relative), sqlite:///<absolute file> or redis://host:port, got "${raw}"`,
    );
  }
  const path = raw.slice('sqlite://'.length);
  if (path === '' || path.endsWith('/')) {
    throw new ConfigError('STORE_URL', `no file name in "${raw}"`);
  }
  return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
}

function readGigaChat(env: Env): GigaChatSettings | undefined {
  const credentials = read(env, 'GIGACHAT_CREDENTIALS');
  const settings = {
    scope: readChoice(env, 'GIGACHAT_SCOPE', GIGACHAT_SCOPES, 'GIGACHAT_API_PERS'),
    authUrl: readUrl(env, 'GIGACHAT_AUTH_URL', 'https://ngw.devices.sberbank.ru:9443/api/v2/oauth'),
    baseUrl: readUrl(env, 'GIGACHAT_BASE_URL', 'https://gigachat.devices.sberbank.ru/api/v1'),
    ca: readCaFile(env, 'GIGACHAT_CA_FILE'),
  };
  if (credentials === undefined) return undefined;
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(credentials) ? Buffer.from(credentials, 'base64').toString('utf8') : '';
  if (!decoded.includes(':')) {
    throw new ConfigError(
      'GIGACHAT_CREDENTIALS',
      'expected the authorization key from GigaChat Studio (Base64 of client_id:client_secret)',
    );
  }
  return { credentials, ...settings };
}

function readGemini(env: Env): GeminiSettings | undefined {
  const apiKey = read(env, 'GEMINI_API_KEY');
  const baseUrl = readUrl(env, 'GEMINI_BASE_URL', 'https://generativelanguage.googleapis.com');
  if (/\/v1(beta|alpha)?\d*\/?$/.test(baseUrl.pathname)) {
    throw new ConfigError('GEMINI_BASE_URL', `give the base without the API version, got "${baseUrl.href}"`);
  }
  const proxy = readProxy(env);
  if (apiKey === undefined) return undefined;
  if (/\s/.test(apiKey)) throw new ConfigError('GEMINI_API_KEY', 'the key contains whitespace');
  return { apiKey, baseUrl, proxy };
}

/**
 * Reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY, upper case first. A value without a scheme
 * (`proxy:3128`) means http://, as curl takes it. The value is never echoed: it may hold a password.
 */
function readProxy(env: Env): ProxySettings {
  const proxyUrl = (name: string): string | undefined => {
    const variable = read(env, name) === undefined ? name.toLowerCase() : name;
    const raw = read(env, variable);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
      if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
    } catch {
      // reported below
    }
    throw new ConfigError(variable, 'expected a proxy URL such as http://user:password@proxy.example.com:3128');
  };
  return {
    httpsProxy: proxyUrl('HTTPS_PROXY'),
    httpProxy: proxyUrl('HTTP_PROXY'),
    noProxy: read(env, 'NO_PROXY') ?? read(env, 'no_proxy'),
  };
}

/** Reads a PEM bundle or a single DER certificate (Gosuslugi serves both) and returns PEM text. */
function readCaFile(env: Env, name: string): string | undefined {
  const path = read(env, name);
  if (path === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ConfigError(name, `cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const text = bytes.toString('latin1');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(bytes).toString();
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return blocks.map((block) => new X509Certificate(block).toString()).join('');
  } catch {
    throw new ConfigError(name, `"${path}" holds no readable certificate (expected PEM or DER)`);
  }
}
