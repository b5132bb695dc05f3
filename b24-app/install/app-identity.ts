import type { TypeB24 } from '@bitrix24/b24jssdk';
import { callRest, RestError } from './rest-client.ts';

/*
 * Who a token belongs to, asked of the portal with the token itself. Both methods are in the
 * `basic` scope every app has.
 */

/** The token's user is not a portal administrator: installs and updates are theirs alone. */
export class NotAdministratorError extends Error {
  constructor() {
    super('only a portal administrator can install or update the app (user.admin is false for this user)');
    this.name = 'NotAdministratorError';
  }
}

/** True when the token's user may manage the app's settings (`user.admin`, a boolean). */
export async function isAdministrator(b24: TypeB24): Promise<boolean> {
  return (await callRest<unknown>(b24, 'user.admin')) === true;
}

/**
 * The CODE of the app the token was issued to (`app.info`): a local app's client_id, an
 * app-directory app's Market code (`vendor.app`). `profile` answers for any app's token; this tells
 * them apart.
 */
export async function appCodeOf(b24: TypeB24): Promise<string> {
  const info = await callRest<{ CODE?: unknown } | null>(b24, 'app.info');
  if (typeof info?.CODE !== 'string' || info.CODE === '') {
    throw new RestError('app.info', 'BAD_ANSWER', 'the portal answered app.info without a CODE', 0);
  }
  return info.CODE;
}
