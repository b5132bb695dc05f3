import { createHash } from 'node:crypto';
import type { B24Config } from '../config.ts';
import type { PortalTokens } from '../portal/portal-store.ts';

/** What Bitrix24's OAuth server answers to a refresh (https://apidocs.bitrix24.com/settings/oauth/index.html). */
export interface OAuthTokenAnswer {
  access_token: string;
  refresh_token: string;
  expires: number;
  expires_in: number;
  scope: string;
  /** The auth server's host, not the portal's. */
  domain: string;
  server_endpoint: string;
  client_endpoint: string;
  member_id: string;
  status: string;
  user_id: number;
}

/** The OAuth server refused or failed; `code` is its `error` (`invalid_grant`, `invalid_client`…). */
export class OAuthError extends Error {
  readonly code: string;
  constructor(code: string, description: string) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
    this.code = code;
  }
}

type OAuthSettings = Pick<B24Config, 'oauth' | 'oauthUrl' | 'trustedOAuthHosts'>;

/**
 * The token endpoint for a portal: its own OAuth server when that is one we trust, else
 * B24_OAUTH_URL. What a request claims never adds a host to the trusted list.
 */
export function tokenEndpoint(settings: OAuthSettings, serverEndpoint: string | undefined): URL {
  const claimed = parseUrl(serverEndpoint);
  if (claimed === undefined || claimed.protocol !== 'https:' || claimed.host === settings.oauthUrl.host) {
    return settings.oauthUrl;
  }
  return settings.trustedOAuthHosts.includes(claimed.host) ? new URL('/oauth/token/', claimed) : settings.oauthUrl;
}

/** The `server_endpoint` to keep for a portal: the trusted endpoint its tokens are refreshed at. */
export function trustedServerEndpoint(settings: OAuthSettings, serverEndpoint: string | undefined): string {
  return new URL('/rest/', tokenEndpoint(settings, serverEndpoint)).toString();
}

/** Trades a refresh token for a new token set; the OAuth server rotates the refresh token. */
export async function refreshTokens(
  settings: OAuthSettings,
  refreshToken: string,
  serverEndpoint: string | undefined,
): Promise<OAuthTokenAnswer> {
  if (settings.oauth === undefined) {
    throw new OAuthError('not_configured', 'B24_CLIENT_ID and B24_CLIENT_SECRET are not set');
  }
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: settings.oauth.clientId,
    client_secret: settings.oauth.clientSecret,
    refresh_token: refreshToken,
  });
  let response: Response;
  try {
    response = await fetch(tokenEndpoint(settings, serverEndpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new OAuthError('unreachable', `the OAuth server did not answer (${(error as Error).message})`);
  }
  const text = await response.text();
  const answer = parseJson(text) as Partial<OAuthTokenAnswer> & { error?: unknown; error_description?: unknown };
  if (answer === undefined || typeof answer !== 'object' || answer === null) {
    throw new OAuthError('bad_answer', `the OAuth server answered HTTP ${response.status} without JSON`);
  }
  if (answer.error !== undefined || !response.ok) {
    throw new OAuthError(String(answer.error ?? `http_${response.status}`), String(answer.error_description ?? ''));
  }
  for (const field of ['access_token', 'refresh_token', 'member_id', 'client_endpoint'] as const) {
    if (typeof answer[field] !== 'string' || answer[field] === '') {
      throw new OAuthError('bad_answer', `the OAuth answer has no ${field}`);
    }
  }
  return {
    ...(answer as OAuthTokenAnswer),
    expires: Number(answer.expires ?? 0),
    expires_in: Number(answer.expires_in ?? 3600),
    user_id: Number(answer.user_id ?? 0),
    scope: String(answer.scope ?? ''),
    status: String(answer.status ?? ''),
  };
}

/** What an install request or event claims about a portal, before the OAuth server confirms it. */
export interface ClaimedPortal {
  memberId: string;
  /** The portal host the request names (`DOMAIN` or `auth[domain]`); optional in some forms. */
  domain: string | undefined;
  refreshToken: string;
  serverEndpoint: string | undefined;
}

/**
 * Confirms a claimed portal with the trusted OAuth server: its refresh token must be valid for our
 * app and belong to the same member_id and portal host. Anyone can POST an install form; this is
 * what stops a forged one from pointing a portal's callbacks or REST calls at another host.
 */
export async function confirmPortal(settings: OAuthSettings, claimed: ClaimedPortal): Promise<OAuthTokenAnswer> {
  const answer = await refreshTokens(settings, claimed.refreshToken, claimed.serverEndpoint);
  if (answer.member_id !== claimed.memberId) {
    throw new OAuthError('member_mismatch', 'the tokens belong to another portal than member_id says');
  }
  const endpoint = parseUrl(answer.client_endpoint);
  if (endpoint === undefined || endpoint.protocol !== 'https:') {
    throw new OAuthError('bad_answer', 'the OAuth answer has no https client_endpoint');
  }
  if (claimed.domain !== undefined && normaliseHost(claimed.domain) !== endpoint.host) {
    throw new OAuthError('domain_mismatch', 'the tokens belong to another portal host than DOMAIN says');
  }
  return answer;
}

/**
 * A digest naming our OAuth client (B24_CLIENT_ID and B24_CLIENT_SECRET) without revealing the
 * secret: tokens remember which client they were issued to.
 */
export function oauthClientDigest(settings: OAuthSettings): string | undefined {
  const { oauth } = settings;
  if (oauth === undefined) return undefined;
  return createHash('sha256')
    .update(`gigagate b24 oauth client\n${oauth.clientId}\n${oauth.clientSecret}`)
    .digest('hex')
    .slice(0, 16);
}

/** The stored token set from an OAuth answer to our client. */
export function tokensFromAnswer(answer: OAuthTokenAnswer, settings: OAuthSettings): PortalTokens {
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expires: answer.expires > 0 ? answer.expires : Math.floor(Date.now() / 1000) + answer.expires_in,
    expiresIn: answer.expires_in,
    scope: answer.scope,
    userId: answer.user_id,
    status: answer.status,
    issuedTo: oauthClientDigest(settings),
  };
}

/** `Acme.Bitrix24.ru:443` → `acme.bitrix24.ru`; keeps other ports. */
export function normaliseHost(host: string): string {
  return (
    parseUrl(
      `https://${host
        .trim()
        .replace(/^https?:\/\//i, '')
        .replace(/\/.*$/, '')}`,
    )?.host ?? host.toLowerCase()
  );
}

function parseUrl(value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
