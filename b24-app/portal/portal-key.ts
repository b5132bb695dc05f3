import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * Bitrix24 sends engine requests with no auth header and, for webhook-registered engines, no auth
 * at all: the URL is the only thing we control. So each portal's engine URL
 * carries `<member_id>.<HMAC-SHA256(signing key, member_id + nonce)>`, the nonce a random value kept
 * on the portal record and replaced on every install and by the administrator's "new engine URLs"
 * button. One leaked URL is then valid only until the next rotation, and rotating one portal's
 * URLs leaves every other portal's alone. The nonce alone gives nothing: without the signing key
 * nobody, a reader of the store included, can compute the URL secret from it. Records made before
 * the nonce existed keep the old formula (HMAC of member_id alone) until their engines are synced.
 * The signing key comes from signing-key.ts.
 */

const MAC_LENGTH = 32; // base64url characters: 192 bits

function mac(key: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}\n${value}`).digest('base64url').slice(0, MAC_LENGTH);
}

/** A new per-portal nonce for the engine URL secret: 128 random bits. */
export function newKeyNonce(): string {
  return randomBytes(16).toString('base64url');
}

function engineUrlMac(key: Buffer, memberId: string, nonce: string | undefined): string {
  return mac(key, 'engine-url', nonce === undefined ? memberId : `${memberId}\n${nonce}`);
}

/** The secret path segment of a portal's engine URLs; no nonce is the formula of records made before it. */
export function portalKeyFor(key: Buffer, memberId: string, nonce: string | undefined): string {
  return `${memberId}.${engineUrlMac(key, memberId, nonce)}`;
}

/** The member_id a portal key claims (not verified yet), or undefined when it is not one. */
export function claimedMemberId(portalKey: string): string | undefined {
  const dot = portalKey.lastIndexOf('.');
  return dot <= 0 ? undefined : portalKey.slice(0, dot);
}

/** True when `portalKey` is the key of `memberId` with this nonce. Constant time. */
export function portalKeyMatches(key: Buffer, portalKey: string, memberId: string, nonce: string | undefined): boolean {
  return safeEqual(portalKey, portalKeyFor(key, memberId, nonce));
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
