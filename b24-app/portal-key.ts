import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { B24Store } from './store.ts';

/*
 * Bitrix24 sends engine requests with no auth header and, for webhook-registered engines, no auth
 * at all (bitrix24.md §2.1): the URL is the only thing we control. So each portal's engine URL
 * carries `<member_id>.<HMAC-SHA256(signing key, member_id)>`. The signing key is random, made
 * once and kept in the store, so it survives restarts and is shared with the CLI.
 */

const SIGNING_KEY = 'signing-key';
const MAC_LENGTH = 32; // base64url characters: 192 bits

/** Loads the signing key, creating it on first use. */
export async function loadSigningKey(store: B24Store): Promise<Buffer> {
  const existing = await store.get<string>(SIGNING_KEY);
  if (typeof existing === 'string') return Buffer.from(existing, 'base64');
  await store.set(SIGNING_KEY, randomBytes(32).toString('base64'));
  // Read back: if two processes raced on the first start, both now use the one that won.
  return Buffer.from((await store.get<string>(SIGNING_KEY)) as string, 'base64');
}

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
