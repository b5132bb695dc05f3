import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/*
 * Secrets at rest (the Bitrix24 app's OAuth tokens and signing key; later tenants' own upstream
 * credentials) are sealed with AES-256-GCM: a fresh random 96-bit IV per value, and a 128-bit tag
 * that authenticates the ciphertext together with the key id and the value's context (which record
 * and field it is), so a value copied into another record does not open there. The key id names
 * the key without revealing it, so several keys can be configured at once: the first seals, every
 * one opens (rotation). A sealed value is one string:
 *
 *   sealed:1:<key id: 8 hex digits>:<IV>:<ciphertext>:<tag>     (the last three base64url)
 */

const PREFIX = 'sealed:1:';
const SEALED = /^sealed:1:([0-9a-f]{8}):([\w-]{16}):([\w-]*):([\w-]{22})$/;
const ALGORITHM = 'aes-256-gcm';
const TAG_BYTES = 16;

/** A stored secret that cannot be opened: its key is not configured, or the value was altered. */
export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

/** The public name of a key: the first 4 bytes of a hash of it, in hex. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('gigagate secret key id\n').update(key).digest('hex').slice(0, 8);
}

/** The authenticated data of a sealed value: the format, the key and what the value is. */
function associatedData(keyId: string, context: string): Buffer {
  return Buffer.from(`${PREFIX}${keyId}:${context}`, 'utf8');
}

/** Seals and opens secrets with a ring of 32-byte keys; the first key seals. */
export class SecretBox {
  /** The key ids, the sealing key first. */
  readonly keyIds: readonly string[];
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('a secret box needs at least one key');
    for (const key of keys) if (key.length !== 32) throw new Error('secret keys are 32 bytes long');
    this.#keys = new Map(keys.map((key) => [keyIdOf(key), key]));
    this.keyIds = [...this.#keys.keys()];
  }

  /** True for a value in the sealed format (older versions stored plaintext, which is not). */
  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  /** True when `value` is sealed with the sealing key; false for plaintext and for an older key (seal it again). */
  isSealedWithCurrentKey(value: unknown): boolean {
    return SecretBox.isSealed(value) && value.startsWith(`${PREFIX}${this.keyIds[0]}:`);
  }

  /** Encrypts `plaintext` with the first key; `context` names what it is (it must match when opened). */
  seal(plaintext: string, context: string): string {
    const keyId = this.keyIds[0] as string;
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, this.#keys.get(keyId) as Buffer, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const fields = [iv, ciphertext, cipher.getAuthTag()].map((bytes) => bytes.toString('base64url'));
    return `${PREFIX}${keyId}:${fields.join(':')}`;
  }

  /** Decrypts a sealed value; a SealedSecretError says why it cannot be, naming only the context and key id. */
  open(sealed: string, context: string): string {
    const match = SEALED.exec(sealed);
    if (match === null) throw new SealedSecretError(`${context}: the stored value is not a sealed secret`);
    const [, keyId, iv, ciphertext, tag] = match as unknown as [string, string, string, string, string];
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new SealedSecretError(
        `${context} was sealed with key ${keyId}, which is not configured (keys: ${this.keyIds.join(', ')}); ` +
          'add that key to GATEWAY_SECRET_KEY (README, "Secrets at rest")',
      );
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(keyId, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedSecretError(`${context} does not open with key ${keyId}: the stored value was altered or moved`);
    }
  }
}
