import { safeEqual, sign } from '../portal/portal-key.ts';

/** Who opened the app page: proven by Bitrix24 accepting their AUTH_ID, then signed by us. */
export interface PageSession {
  memberId: string;
  userId: number;
  isAdmin: boolean;
  /** Unix ms. */
  expires: number;
}

const LIFETIME_MS = 60 * 60_000; // Bitrix24's access tokens live an hour too
const PURPOSE = 'page-session';

/**
 * The token the page sends back with its own calls (`Authorization: Bearer …`):
 * base64url(JSON) + "." + HMAC. It lives in the page, never in a URL or cookie, so another site
 * cannot make the browser use it.
 */
export function createPageSession(key: Buffer, session: Omit<PageSession, 'expires'>, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ ...session, expires: now + LIFETIME_MS })).toString('base64url');
  return `${payload}.${sign(key, PURPOSE, payload)}`;
}

/** The session a token carries, or undefined when it is forged, malformed or expired. */
export function readPageSession(key: Buffer, token: string, now = Date.now()): PageSession | undefined {
  const [payload, mac, extra] = token.split('.');
  if (payload === undefined || mac === undefined || extra !== undefined) return undefined;
  if (!safeEqual(mac, sign(key, PURPOSE, payload))) return undefined;
  try {
    const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PageSession;
    return typeof session.memberId === 'string' && session.expires > now ? session : undefined;
  } catch {
    return undefined;
  }
}
