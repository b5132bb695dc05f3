import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { OAuthTokenAnswer } from '../../../b24-app/install/oauth.ts';
import type { FakePortal } from './fake-portal.ts';
import { closeServer, parseBody, sendJson, startHttpsServer } from './https-server.ts';

/** The app keys the tests configure: obviously fake. */
export const TEST_CLIENT_ID = 'local.0000test000000.00000000';
export const TEST_CLIENT_SECRET = 'test-client-secret-not-real';

interface Grant {
  portal: FakePortal;
  userId: number;
  /** The app the tokens were issued to. */
  clientId: string;
  used: boolean;
}

/**
 * Bitrix24's OAuth server (`oauth.bitrix.info`) on loopback HTTPS: `/oauth/token/` trades a
 * refresh token for a new pair, once — a used refresh token is refused with `invalid_grant`, as
 * the real server does after rotation. Tokens of an app removed from its portal are refused with
 * `invalid_client` ("the application may not be installed", b24restdocs
 * `settings/oauth/error-codes.md`).
 */
export class FakeOAuth {
  readonly server: Server;
  readonly origin: string;
  readonly grants = new Map<string, Grant>();
  /** Every refresh the server answered, in order. */
  readonly refreshes: Array<{ refreshToken: string; ok: boolean; error?: string }> = [];
  /** While true every connection is dropped unanswered: the OAuth server is unreachable. */
  down = false;

  private constructor(server: Server, origin: string) {
    this.server = server;
    this.origin = origin;
  }

  static async start(tls: { key: string; cert: string }): Promise<FakeOAuth> {
    let oauth: FakeOAuth | undefined;
    const { server, origin } = await startHttpsServer(tls, (request, body, response) => {
      if ((oauth as FakeOAuth).down) {
        request.socket.destroy();
        return;
      }
      const url = new URL(request.url ?? '/', 'https://localhost');
      if (url.pathname !== '/oauth/token/') return sendJson(response, 404, { error: 'NOT_FOUND' });
      const params = { ...Object.fromEntries(url.searchParams), ...parseBody(request, body) };
      const [status, answer] = (oauth as FakeOAuth).token(params);
      sendJson(response, status, answer);
    });
    oauth = new FakeOAuth(server, origin);
    return oauth;
  }

  /** B24_OAUTH_URL for the app. */
  get tokenUrl(): string {
    return `${this.origin}/oauth/token/`;
  }

  /** `server_endpoint` as this server reports it. */
  get serverEndpoint(): string {
    return `${this.origin}/rest/`;
  }

  /**
   * Issues a fresh token pair for a user of a portal, as Bitrix24 does when the app is opened or
   * installed; `clientId` names another app on the same portal (its tokens are not ours).
   */
  issue(portal: FakePortal, userId: number, lifetimeSeconds = 3600, clientId = TEST_CLIENT_ID): OAuthTokenAnswer {
    const accessToken = `test-access-${randomBytes(12).toString('hex')}`;
    const refreshToken = `test-refresh-${randomBytes(12).toString('hex')}`;
    const expires = Math.floor(Date.now() / 1000) + lifetimeSeconds;
    portal.accessTokens.set(accessToken, { userId, expiresAt: expires * 1000, clientId });
    this.grants.set(refreshToken, { portal, userId, clientId, used: false });
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      expires,
      expires_in: 3600,
      scope: 'ai_admin',
      domain: new URL(this.origin).host,
      server_endpoint: this.serverEndpoint,
      client_endpoint: `${portal.origin}/rest/`,
      member_id: portal.memberId,
      status: 'L',
      user_id: userId,
    };
  }

  token(params: Record<string, string>): [number, unknown] {
    if (params.client_id !== TEST_CLIENT_ID || params.client_secret !== TEST_CLIENT_SECRET) {
      this.refreshes.push({ refreshToken: params.refresh_token ?? '', ok: false, error: 'invalid_client' });
      return [401, { error: 'invalid_client', error_description: 'Invalid client' }];
    }
    if (params.grant_type !== 'refresh_token') {
      return [400, { error: 'invalid_request', error_description: 'Unsupported grant_type' }];
    }
    const grant = this.grants.get(params.refresh_token ?? '');
    if (grant?.portal.removedApps.has(grant.clientId) === true) {
      this.refreshes.push({ refreshToken: params.refresh_token as string, ok: false, error: 'invalid_client' });
      return [401, { error: 'invalid_client', error_description: 'Invalid client' }];
    }
    if (grant === undefined || grant.used || grant.clientId !== params.client_id) {
      this.refreshes.push({ refreshToken: params.refresh_token ?? '', ok: false, error: 'invalid_grant' });
      return [400, { error: 'invalid_grant', error_description: 'Invalid grant' }];
    }
    grant.used = true;
    this.refreshes.push({ refreshToken: params.refresh_token as string, ok: true });
    return [200, this.issue(grant.portal, grant.userId, 3600, grant.clientId)];
  }

  /** Lets every refresh token issued for the portal lapse, as 180 days without a refresh do: `invalid_grant`. */
  expireGrants(portal: FakePortal): void {
    for (const grant of this.grants.values()) if (grant.portal === portal) grant.used = true;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}
