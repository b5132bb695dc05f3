import type { B24Config } from '../config.ts';
import { appCodeOf } from '../install/app-identity.ts';
import { callRest, RestError, viewerClient } from '../install/rest-client.ts';
import type { PortalRecord } from '../portal/portal-store.ts';

/** The page's viewer, as the portal describes them. */
export interface PortalUser {
  id: number;
  isAdmin: boolean;
  /** The CODE of the app the viewer's token belongs to: ours, or the page would not have got this far. */
  appCode: string;
}

/**
 * Asks the portal (at the endpoint stored at install, not one the request names) who owns the
 * AUTH_ID the page was opened with, and for which app it was issued. Only the portal can vouch for
 * it, so a forged page POST with another portal's member_id gets nowhere; and since `profile`
 * answers for any app's token, `app.info` must name our app too (the CODE learned at install, or
 * our client_id for a record from before), or another app on the portal could open our page as
 * its user.
 */
export async function confirmUser(config: B24Config, portal: PortalRecord, accessToken: string): Promise<PortalUser> {
  if (config.oauth === undefined) throw new RestError('profile', 'NOT_CONFIGURED', 'B24_CLIENT_ID is not set', 0);
  const b24 = viewerClient(config, portal, accessToken);
  const appCode = await appCodeOf(b24);
  const ours = portal.appCode ?? config.oauth.clientId;
  if (appCode !== ours) {
    throw new RestError('app.info', 'FOREIGN_APP', `the token is of the application "${appCode}", not "${ours}"`, 0);
  }
  const profile = await callRest<{ ID?: unknown; ADMIN?: unknown }>(b24, 'profile');
  return { id: Number(profile.ID ?? 0), isAdmin: profile.ADMIN === true || profile.ADMIN === 'Y', appCode };
}
