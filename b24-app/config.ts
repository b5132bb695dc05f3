import { ConfigError, type Env, isLoopback, readEnv, readStoreUrl, type StoreSettings } from '../gateway/lib/env.ts';
import { decodeKey } from '../gateway/lib/secrets/secret-keys.ts';
import { engineCodeFor } from './install/engine-code.ts';

export { ConfigError, type Env, type StoreSettings };

/*
 * The Bitrix24 app's configuration, read once at start-up through the variables declared in
 * gateway/lib/env.ts, as the gateway's is: a bad value stops start-up with one line naming the
 * variable, and secrets are never echoed in that line.
 */

/** The Bitrix24 OAuth servers the app trusts besides the host of B24_OAUTH_URL: portals name either as their server_endpoint. */
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
  store: StoreSettings;
  /** B24_SIGNING_KEY: the key of engine URLs and page sessions; undefined keeps a random one in the store. */
  signingKey: Buffer | undefined;
}

/** Reads the Bitrix24 app's settings; undefined when PUBLIC_URL is not set (the app is off). */
export function loadB24Config(env: Env, cwd: string = process.cwd()): B24Config | undefined {
  const publicUrl = readPublicUrl(env);
  const oauthUrl = readEnv(env, 'B24_OAUTH_URL');
  if (oauthUrl.protocol !== 'https:' && !isLoopback(oauthUrl.hostname)) {
    throw new ConfigError(
      'B24_OAUTH_URL',
      'tokens go there: use https:// (plain http only for a loopback test server)',
    );
  }
  const settings = {
    oauth: readOAuthKeys(env),
    oauthUrl,
    trustedOAuthHosts: [...new Set([oauthUrl.host, ...BITRIX24_OAUTH_HOSTS])],
    engineModels: readModels(env),
    gatewayUrl: readEnv(env, 'B24_GATEWAY_URL'),
    gatewayApiKey: readEnv(env, 'B24_GATEWAY_API_KEY'),
    rateLimitPerMinute: readEnv(env, 'B24_RATE_LIMIT'),
    store: readStoreUrl(env, cwd),
    signingKey: readSigningKey(env),
  };
  return publicUrl === undefined ? undefined : { publicUrl, ...settings };
}

function readPublicUrl(env: Env): URL | undefined {
  const url = readEnv(env, 'PUBLIC_URL');
  if (url === undefined) return undefined;
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError('PUBLIC_URL', 'expected a base address without ?query or #fragment');
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

function readOAuthKeys(env: Env): B24Config['oauth'] {
  const clientId = readEnv(env, 'B24_CLIENT_ID');
  const clientSecret = readEnv(env, 'B24_CLIENT_SECRET');
  if (clientId === undefined && clientSecret === undefined) return undefined;
  if (clientId === undefined) throw new ConfigError('B24_CLIENT_ID', 'is required when B24_CLIENT_SECRET is set');
  if (clientSecret === undefined) throw new ConfigError('B24_CLIENT_SECRET', 'is required when B24_CLIENT_ID is set');
  if (!/^(local|app)\.[\w.-]+$/.test(clientId)) {
    throw new ConfigError('B24_CLIENT_ID', 'expected the client_id Bitrix24 shows, "local.…" or "app.…"');
  }
  return { clientId, clientSecret };
}

function readModels(env: Env): readonly string[] | undefined {
  const raw = readEnv(env, 'B24_ENGINE_MODELS');
  if (raw === undefined) return undefined;
  const models = raw
    .split(',')
    .map((model) => model.trim())
    .filter((model) => model !== '');
  const codes = new Map<string, string>();
  for (const model of models) {
    if (!/^[\w./:-]{1,100}$/.test(model)) {
      throw new ConfigError('B24_ENGINE_MODELS', `"${model}" is not a model name`);
    }
    const code = engineCodeFor(model);
    const other = codes.get(code);
    if (other !== undefined) {
      throw new ConfigError('B24_ENGINE_MODELS', `"${other}" and "${model}" would get the same engine code`);
    }
    codes.set(code, model);
  }
  if (models.length === 0) throw new ConfigError('B24_ENGINE_MODELS', 'lists no model');
  return models;
}

function readSigningKey(env: Env): Buffer | undefined {
  const raw = readEnv(env, 'B24_SIGNING_KEY');
  if (raw === undefined) return undefined;
  const key = decodeKey(raw);
  if (key === undefined) {
    throw new ConfigError('B24_SIGNING_KEY', 'expected 32 random bytes as base64 (openssl rand -base64 32) or hex');
  }
  return key;
}
