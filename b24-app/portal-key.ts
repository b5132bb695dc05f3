import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * Bitrix24 sends engine requests with no auth header and, for webhook-registered engines, no auth
 * at all (bitrix24.md §2.1): the URL is the only thing we control. So each portal's engine URL
 * carries `<member_id>.<HMAC-SHA256(signing key, member_id)>`. The signing key comes from
 * signing-key.ts.
 */

const MAC_LENGTH = 32; // base64url characters: 192 bits

function mac(key: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}\n${value}`).digest('base64url').slice(0, MAC_LENGTH);
}

/** The secret path segment of a portal's engine URLs. */
export function portalKeyFor(key: Buffer, memberId: string): string {
  return `${memberId}.${mac(key, 'engine-url', memberId)}`;
}

/** The member_id a portal key belongs to, or undefined when the key is forged. Constant time. */
export function memberIdFromPortalKey(key: Buffer, portalKey: string): string | undefined {
  const dot = portalKey.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const memberId = portalKey.slice(0, dot);
  return safeEqual(portalKey.slice(dot + 1), mac(key, 'engine-url', memberId)) ? memberId : undefined;
}

/** Signs a value for another purpose (page sessions); the purpose keeps the MACs apart. */
export function sign(key: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}\n${value}`).digest('base64url');
}

/** Compares two secrets in constant time, whatever their lengths. */
export function safeEqual(presented: string, expected: string): boolean {
  const digest = (value: string) => createHmac('sha256', 'compare').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected)) && presented.length === expected.length;
}
