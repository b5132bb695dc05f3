import { AjaxError, B24OAuth, type TypeB24 } from '@bitrix24/b24jssdk';
import type { Logger } from 'pino';
import type { B24Config } from '../config.ts';
import type { PortalRecord, PortalStore, PortalTokens } from '../portal/portal-store.ts';
import { type OAuthTokenAnswer, refreshTokens, tokensFromAnswer } from './oauth.ts';

/** A REST call failed; `code` is Bitrix24's error code (`ACCESS_DENIED`, `ENGINE_REGISTER_ERROR_CODE_UNIQUE`…). */
export class RestError extends Error {
  readonly method: string;
  readonly code: string;
  readonly status: number;
  constructor(method: string, code: string, description: string, status: number) {
    super(`${method}: ${code}${description === '' ? '' : ` (${description})`}`);
    this.name = 'RestError';
    this.method = method;
    this.code = code;
    this.status = status;
  }
}

/** Calls one REST method through b24jssdk and returns its `result`; failures become RestError. */
export async function callRest<T>(b24: TypeB24, method: string, params: Record<string, unknown> = {}): Promise<T> {
  try {
    const answer = await b24.actions.v2.call.make<T>({ method, params });
    if (!answer.isSuccess) {
      const error = answer.getErrors().next().value;
      const code = error instanceof AjaxError ? error.code : 'REST_ERROR';
      throw new RestError(method, code, answer.getErrorMessages().join('; '), 0);
    }
    return answer.getData()!.result as T;
  } catch (error) {
    if (error instanceof RestError) throw error;
    if (error instanceof AjaxError) throw new RestError(method, error.code, error.message, error.status);
    throw new RestError(method, 'REST_FAILED', (error as Error).message, 0);
  }
}

// b24jssdk builds `<clientEndpoint>/<method>`; Bitrix24 reports client_endpoint with a trailing slash.
const restBase = (clientEndpoint: string) => clientEndpoint.replace(/\/+$/, '');

/** A B24OAuth client for a portal and a token set; callers set how it refreshes. */
function oauthClient(config: B24Config, portal: PortalRecord, tokens: PortalTokens, maxRetries?: number): B24OAuth {
  if (config.oauth === undefined) throw new RestError('oauth', 'NOT_CONFIGURED', 'B24_CLIENT_ID is not set', 0);
  return new B24OAuth(
    {
      applicationToken: '',
      userId: tokens.userId,
      memberId: portal.memberId,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expires: tokens.expires,
      expiresIn: tokens.expiresIn,
      scope: tokens.scope,
      domain: portal.domain,
      clientEndpoint: restBase(portal.clientEndpoint),
      serverEndpoint: portal.serverEndpoint,
      status: tokens.status as 'F',
    },
    config.oauth,
    maxRetries === undefined ? undefined : { restrictionParams: { maxRetries } },
  );
}

/** The SDK's shape of a refreshed token set. */
const sdkAnswer = (answer: OAuthTokenAnswer) => ({
  ...answer,
  expires: String(answer.expires),
  expires_in: String(answer.expires_in),
});

/**
 * A B24OAuth client acting for a portal with its stored tokens. On expiry or `expired_token` the
 * SDK refreshes through our custom refresh (at the trusted OAuth server, one refresh per portal at
 * a time) and hands the rotated tokens to its refresh callback, which persists them.
 */
export function portalClient(config: B24Config, portals: PortalStore, portal: PortalRecord, logger: Logger): B24OAuth {
  const tokens = portal.tokens;
  if (tokens === undefined) {
    throw new RestError('oauth', 'NOT_INSTALLED', 'the portal has no OAuth tokens (webhook portals use the CLI)', 0);
  }
  const b24 = oauthClient(config, portal, tokens);
  let currentAccessToken = tokens.accessToken;
  b24.setCustomRefreshAuth(async () =>
    sdkAnswer(await refreshPortal(config, portals, portal.memberId, currentAccessToken)),
  );
  b24.setCallbackRefreshAuth(async ({ b24OAuthParams }) => {
    currentAccessToken = b24OAuthParams.accessToken;
    await portals.update(portal.memberId, (record) => ({
      ...record,
      tokens: {
        ...record.tokens,
        accessToken: b24OAuthParams.accessToken,
        refreshToken: b24OAuthParams.refreshToken,
        expires: b24OAuthParams.expires,
        expiresIn: b24OAuthParams.expiresIn,
        scope: b24OAuthParams.scope,
        userId: record.tokens?.userId ?? 0,
        status: b24OAuthParams.status,
      },
    }));
    logger.info({ memberId: portal.memberId }, 'Bitrix24: portal tokens refreshed and saved');
  });
  return b24;
}

/**
 * A client acting with a token set that lives only in `portal.tokens`, for an install not saved
 * yet: a refresh goes to the trusted OAuth server and replaces the in-memory set, never a stored
 * record, so an install that fails later has written nothing.
 */
export function installerClient(config: B24Config, portal: PortalRecord & { tokens: PortalTokens }): B24OAuth {
  const b24 = oauthClient(config, portal, portal.tokens);
  b24.setCustomRefreshAuth(async () => {
    const answer = await refreshTokens(config, portal.tokens.refreshToken, portal.serverEndpoint);
    assertSamePortal(answer, portal);
    portal.tokens = tokensFromAnswer(answer, config);
    return sdkAnswer({
      ...answer,
      client_endpoint: restBase(answer.client_endpoint),
      server_endpoint: portal.serverEndpoint,
    });
  });
  return b24;
}

/**
 * A client acting with a portal user's own frame token (the page's AUTH_ID), at the endpoint
 * stored at install. The token is theirs to refresh (the frame does it): never refreshed here.
 */
export function viewerClient(config: B24Config, portal: PortalRecord, accessToken: string): B24OAuth {
  const expires = Math.floor(Date.now() / 1000) + 300;
  const tokens = { accessToken, refreshToken: '', expires, expiresIn: 300, scope: '', userId: 0, status: 'F' };
  const b24 = oauthClient(config, portal, tokens, 1);
  b24.setCustomRefreshAuth(async () => {
    throw new RestError('oauth', 'expired_token', 'the page token expired', 401);
  });
  return b24;
}

/** Refuses an OAuth answer for another portal than the record's (member_id and host). */
export function assertSamePortal(answer: OAuthTokenAnswer, portal: PortalRecord): void {
  if (answer.member_id !== portal.memberId || new URL(answer.client_endpoint).host !== portal.domain) {
    throw new RestError('oauth', 'PORTAL_MISMATCH', 'the OAuth server answered for another portal', 0);
  }
}

/**
 * Refreshes a portal's tokens once, under the portal's lock. When another client already rotated
 * them (the stored access token is not the one that failed and is still valid), it returns those
 * instead of spending the now-stale refresh token. The new pair is saved before returning: the
 * OAuth server has already invalidated the old refresh token.
 */
async function refreshPortal(
  config: B24Config,
  portals: PortalStore,
  memberId: string,
  failedAccessToken: string,
): Promise<OAuthTokenAnswer> {
  return portals.withLock(memberId, async () => {
    const portal = await portals.get(memberId);
    const tokens = portal?.tokens;
    if (portal === undefined || tokens === undefined) {
      throw new RestError('oauth', 'NOT_INSTALLED', 'the portal was uninstalled', 0);
    }
    if (tokens.accessToken !== failedAccessToken && tokens.expires * 1000 > Date.now() + 60_000) {
      return answerFromStored(portal);
    }
    const answer = await refreshTokens(config, tokens.refreshToken, portal.serverEndpoint);
    assertSamePortal(answer, portal);
    // The OAuth server took our refresh token: the app is installed, whatever an uninstall event claimed.
    await portals.save({ ...portal, tokens: tokensFromAnswer(answer, config), uninstallPending: undefined });
    return { ...answer, client_endpoint: restBase(answer.client_endpoint), server_endpoint: portal.serverEndpoint };
  });
}

function answerFromStored(portal: PortalRecord): OAuthTokenAnswer {
  const tokens = portal.tokens!;
  return {
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    expires: tokens.expires,
    expires_in: tokens.expiresIn,
    scope: tokens.scope,
    domain: portal.domain,
    server_endpoint: portal.serverEndpoint,
    client_endpoint: restBase(portal.clientEndpoint),
    member_id: portal.memberId,
    status: tokens.status,
    user_id: tokens.userId,
  };
}
