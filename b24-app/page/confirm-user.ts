import { B24OAuth } from '@bitrix24/b24jssdk';
import type { B24Config } from '../config.ts';
import type { PortalRecord } from '../portal-store.ts';
import { callRest, RestError } from '../rest-client.ts';

/** The page's viewer, as the portal describes them. */
export interface PortalUser {
  id: number;
  isAdmin: boolean;
}

/**
 * Asks the portal (at the endpoint stored at install, not one the request names) who owns the
 * AUTH_ID the page was opened with. Only the portal can vouch for it, so a forged page POST with
 * another portal's member_id gets nowhere.
 */
export async function confirmUser(config: B24Config, portal: PortalRecord, accessToken: string): Promise<PortalUser> {
  if (config.oauth === undefined) throw new RestError('profile', 'NOT_CONFIGURED', 'B24_CLIENT_ID is not set', 0);
  const b24 = new B24OAuth(
    {
      applicationToken: '',
      userId: 0,
      memberId: portal.memberId,
      accessToken,
      refreshToken: '',
      expires: Math.floor(Date.now() / 1000) + 300,
      expiresIn: 300,
      scope: '',
      domain: portal.domain,
      clientEndpoint: portal.clientEndpoint.replace(/\/+$/, ''),
      serverEndpoint: portal.serverEndpoint,
      status: 'F',
    },
    config.oauth,
    { restrictionParams: { maxRetries: 1 } },
  );
  // The viewer's token is theirs to refresh (the frame does it); never refresh it here.
  b24.setCustomRefreshAuth(async () => {
    throw new RestError('profile', 'expired_token', 'the page token expired', 401);
  });
  const profile = await callRest<{ ID?: unknown; ADMIN?: unknown }>(b24, 'profile');
  return { id: Number(profile.ID ?? 0), isAdmin: profile.ADMIN === true || profile.ADMIN === 'Y' };
}
