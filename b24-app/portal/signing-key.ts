import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../gateway/lib/secrets/secret-box.ts';
import type { B24Store } from '../store.ts';

/*
 * The key behind engine URLs and page sessions (portal-key.ts). B24_SIGNING_KEY sets it; without
 * it a random key is made on the first start and kept in the store, sealed like the portals'
 * tokens, so it survives restarts and is shared with other instances and the CLI.
 */

const SIGNING_KEY = 'signing-key';
const CONTEXT = 'b24 signing-key';

/**
 * B24_SIGNING_KEY, or the stored key, created on first use. A stored key in plaintext (from an
 * older version) or sealed with an older key is sealed again with the current one.
 */
export async function loadSigningKey(
  store: B24Store,
  secrets: SecretBox,
  configured: Buffer | undefined,
): Promise<Buffer> {
  if (configured !== undefined) return configured;
  const existing = await store.get<string>(SIGNING_KEY);
  if (typeof existing === 'string') {
    const key = SecretBox.isSealed(existing) ? secrets.open(existing, CONTEXT) : existing;
    if (!secrets.isSealedWithCurrentKey(existing)) await store.set(SIGNING_KEY, secrets.seal(key, CONTEXT));
    return Buffer.from(key, 'base64');
  }
  await store.set(SIGNING_KEY, secrets.seal(randomBytes(32).toString('base64'), CONTEXT));
  // Read back: if two processes raced on the first start, both now use the one that won.
  return Buffer.from(secrets.open((await store.get<string>(SIGNING_KEY)) as string, CONTEXT), 'base64');
}
