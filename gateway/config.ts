import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type AliasSettings,
  type ClientLimits,
  type ClientSettings,
  ConfigFileError,
  EMPTY_FILE,
  type FileCredentials,
  type GatewayFile,
  loadConfigFile,
  type OwnCredentials,
} from './config-file.ts';
import {
  type ClientKey,
  ConfigError,
  type Env,
  type GIGACHAT_SCOPES,
  isGigaChatAuthorizationKey,
  isLoopback,
  type LOG_LEVELS,
  readClientKeys,
  readEnv,
  readStoreUrl,
  type StoreSettings,
} from './lib/env.ts';

export type { AliasSettings, ClientKey, ClientLimits, ClientSettings, Env, OwnCredentials, StoreSettings };
export { ConfigError, isLoopback };

/*
 * The whole runtime configuration, read once from the environment at start-up through the variables
 * declared in lib/env.ts. A bad value stops start-up with one line naming the variable; secrets are
 * never echoed in that line.
 */

export type LogLevel = (typeof LOG_LEVELS)[number];
export type GigaChatScope = (typeof GIGACHAT_SCOPES)[number];

/** Where GigaChat's calls go and whom they trust, whoever's credential they carry. */
export interface GigaChatEndpoint {
  authUrl: URL;
  baseUrl: URL;
  /** PEM text of GIGACHAT_CA_FILE, trusted in addition to the system roots. */
  ca: string | undefined;
}

/** What a GigaChat provider calls with: the endpoint and one credential. */
export interface GigaChatSettings extends GigaChatEndpoint {
  credentials: string;
  scope: GigaChatScope;
}

/** Where Gemini's calls go, whoever's key they carry. */
export interface GeminiEndpoint {
  /** API base without the version segment. */
  baseUrl: URL;
  proxy: ProxySettings;
}

/** What a Gemini provider calls with: the endpoint and one API key. */
export interface GeminiSettings extends GeminiEndpoint {
  apiKey: string;
}

/** One of the operator's accounts with an upstream. */
export interface OperatorCredential<S> {
  /** In logs, metrics and usage instead of the secret: `default` for GIGACHAT_CREDENTIALS / GEMINI_API_KEY. */
  name: string;
  /** Its share of the calls; 0: a standby, used only while every weighted one rests. */
  weight: number;
  settings: S;
}

/** One upstream: its endpoint, and the operator's credentials for it. */
export interface UpstreamSettings<E, S> {
  endpoint: E;
  /** The environment's `default` first, then GATEWAY_CONFIG's in the file's order; empty: the operator has none. */
  credentials: readonly OperatorCredential<S>[];
}

/** The standard proxy variables; Gemini's calls honour them (GigaChat's never do). */
export interface ProxySettings {
  httpsProxy: string | undefined;
  httpProxy: string | undefined;
  noProxy: string | undefined;
}

/** How failed upstream calls are retried (gateway/routing/retry-policy.ts). */
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
  /** FILES_DIR, absolute: where POST /v1/files keeps the bytes. */
  filesDir: string;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  logLevel: LogLevel;
  /** LOG_PROMPTS=1: one extra log line per request with its prompt; otherwise no prompt text is ever logged. */
  logPrompts: boolean;
  /** How long a shutdown waits for requests and streams in flight before it ends them. */
  shutdownTimeoutMs: number;
  /** LISTEN_BACKLOG: connections the kernel queues before the gateway accepts them. */
  listenBacklog: number;
  /** Without credentials GigaChat serves only keys that bring their own. */
  gigachat: UpstreamSettings<GigaChatEndpoint, GigaChatSettings>;
  /** Without credentials Gemini serves only keys that bring their own. */
  gemini: UpstreamSettings<GeminiEndpoint, GeminiSettings>;
  /** How long an operator credential that answered 429 or 402 without a Retry-After rests (GATEWAY_CONFIG). */
  credentialCooldownMs: number;
  /** RESPONSES_RETENTION_HOURS: how long a stored response (POST /v1/responses) is kept. */
  responsesRetentionMs: number;
  /** GIGACHAT_FILES_RETENTION_HOURS: how long an attachment uploaded to GigaChat is reused before the gateway deletes it there. */
  gigachatFileRetentionMs: number;
}

/** How long a credential rests after a 429 or 402 without Retry-After, unless GATEWAY_CONFIG says otherwise. */
const DEFAULT_COOLDOWN_SECONDS = 60;

/** Reads and validates the configuration; throws ConfigError on the first bad value. */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const host = readEnv(env, 'HOST');
  const file = readConfigFile(env, cwd);
  const clients = mergeClients(readClientKeys(env), file);
  const apiKeys = clients.map(({ name, key }) => ({ name, key }));
  const adminKey = readAdminKey(env, apiKeys);
  // With an admin key the keys are made at run time, and until then no request is let in.
  if (apiKeys.length === 0 && adminKey === undefined && !isLoopback(host)) {
    throw new ConfigError(
      'GATEWAY_API_KEYS',
      `no client keys are set, and HOST=${host} is not a loopback address; set keys, set GATEWAY_ADMIN_KEY to make them at run time, or listen on 127.0.0.1`,
    );
  }
  return {
    port: readEnv(env, 'PORT'),
    host,
    apiKeys,
    clients,
    defaultLimits: file.defaults,
    adminKey,
    aliases: file.aliases,
    retry: {
      retries: readEnv(env, 'UPSTREAM_RETRIES'),
      baseDelayMs: readEnv(env, 'UPSTREAM_RETRY_BASE_MS'),
      maxWaitMs: readEnv(env, 'UPSTREAM_RETRY_MAX_WAIT_MS'),
      budgetMs: readEnv(env, 'UPSTREAM_RETRY_BUDGET_MS'),
    },
    store: readStoreUrl(env, cwd),
    filesDir: resolve(cwd, readEnv(env, 'FILES_DIR')),
    maxBodyBytes: readEnv(env, 'MAX_BODY_BYTES'),
    upstreamTimeoutMs: readEnv(env, 'UPSTREAM_TIMEOUT_MS'),
    logLevel: readEnv(env, 'LOG_LEVEL'),
    logPrompts: readEnv(env, 'LOG_PROMPTS'),
    shutdownTimeoutMs: readEnv(env, 'SHUTDOWN_TIMEOUT_MS'),
    listenBacklog: readEnv(env, 'LISTEN_BACKLOG'),
    gigachat: readGigaChat(env, file.credentials),
    gemini: readGemini(env, file.credentials),
    credentialCooldownMs: (file.credentials.cooldownSeconds ?? DEFAULT_COOLDOWN_SECONDS) * 1000,
    gigachatFileRetentionMs: readEnv(env, 'GIGACHAT_FILES_RETENTION_HOURS') * 3_600_000,
    responsesRetentionMs: readEnv(env, 'RESPONSES_RETENTION_HOURS') * 3_600_000,
  };
}

function readConfigFile(env: Env, cwd: string): GatewayFile {
  const path = readEnv(env, 'GATEWAY_CONFIG');
  if (path === undefined) return EMPTY_FILE;
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
  const key = readEnv(env, 'GATEWAY_ADMIN_KEY');
  if (key === undefined) return undefined;
  if (key.length < 16 || /\s/.test(key)) {
    throw new ConfigError('GATEWAY_ADMIN_KEY', 'use at least 16 characters without spaces');
  }
  if (clients.some((client) => client.key === key)) {
    throw new ConfigError('GATEWAY_ADMIN_KEY', 'must differ from every client key');
  }
  return key;
}

/** `default` from the environment, then the file's; the name `default` is the environment's. */
function operatorCredentials<S>(
  fromEnv: OperatorCredential<S> | undefined,
  fromFile: readonly OperatorCredential<S>[],
  section: string,
  variable: string,
): OperatorCredential<S>[] {
  if (fromEnv !== undefined && fromFile.some((credential) => credential.name === fromEnv.name)) {
    throw new ConfigError(
      'GATEWAY_CONFIG',
      `credentials.${section}.${fromEnv.name}: the name "${fromEnv.name}" is taken by ${variable}; choose another`,
    );
  }
  return fromEnv === undefined ? [...fromFile] : [fromEnv, ...fromFile];
}

function readGigaChat(env: Env, file: FileCredentials): Config['gigachat'] {
  const credentials = readEnv(env, 'GIGACHAT_CREDENTIALS');
  const scope = readEnv(env, 'GIGACHAT_SCOPE');
  const endpoint: GigaChatEndpoint = {
    authUrl: readEnv(env, 'GIGACHAT_AUTH_URL'),
    baseUrl: readEnv(env, 'GIGACHAT_BASE_URL'),
    ca: readCaFile(env),
  };
  if (credentials !== undefined && !isGigaChatAuthorizationKey(credentials)) {
    throw new ConfigError(
      'GIGACHAT_CREDENTIALS',
      'expected the authorization key from GigaChat Studio (Base64 of client_id:client_secret)',
    );
  }
  const fromEnv =
    credentials === undefined
      ? undefined
      : { name: 'default', weight: 1, settings: { ...endpoint, credentials, scope } };
  const fromFile = file.gigachat.map(({ name, weight, secret }) => ({
    name,
    weight,
    settings: { ...endpoint, ...secret },
  }));
  return { endpoint, credentials: operatorCredentials(fromEnv, fromFile, 'gigachat', 'GIGACHAT_CREDENTIALS') };
}

function readGemini(env: Env, file: FileCredentials): Config['gemini'] {
  const apiKey = readEnv(env, 'GEMINI_API_KEY');
  const baseUrl = readEnv(env, 'GEMINI_BASE_URL');
  if (/\/v1(beta|alpha)?\d*\/?$/.test(baseUrl.pathname)) {
    throw new ConfigError('GEMINI_BASE_URL', `give the base without the API version, got "${baseUrl.href}"`);
  }
  const endpoint: GeminiEndpoint = { baseUrl, proxy: readProxy(env) };
  if (apiKey !== undefined && /\s/.test(apiKey)) throw new ConfigError('GEMINI_API_KEY', 'the key contains whitespace');
  const fromEnv = apiKey === undefined ? undefined : { name: 'default', weight: 1, settings: { ...endpoint, apiKey } };
  const fromFile = file.gemini.map(({ name, weight, secret }) => ({
    name,
    weight,
    settings: { ...endpoint, ...secret },
  }));
  return { endpoint, credentials: operatorCredentials(fromEnv, fromFile, 'gemini', 'GEMINI_API_KEY') };
}

/**
 * Reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY, upper case first. A value without a scheme
 * (`proxy:3128`) means http://, as curl takes it. The value is never echoed: it may hold a password.
 */
function readProxy(env: Env): ProxySettings {
  const proxyUrl = (upper: 'HTTPS_PROXY' | 'HTTP_PROXY', lower: 'https_proxy' | 'http_proxy'): string | undefined => {
    const variable = readEnv(env, upper) === undefined ? lower : upper;
    const raw = readEnv(env, variable);
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
    httpsProxy: proxyUrl('HTTPS_PROXY', 'https_proxy'),
    httpProxy: proxyUrl('HTTP_PROXY', 'http_proxy'),
    noProxy: readEnv(env, 'NO_PROXY') ?? readEnv(env, 'no_proxy'),
  };
}

/** Reads a PEM bundle or a single DER certificate (Gosuslugi serves both) and returns PEM text. */
function readCaFile(env: Env): string | undefined {
  const name = 'GIGACHAT_CA_FILE';
  const path = readEnv(env, name);
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
