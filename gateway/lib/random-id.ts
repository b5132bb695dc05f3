import { randomFillSync } from 'node:crypto';

const ID_BYTES = 12;
// Asking the OS for a few bytes per request costs more than the rest of building an answer's id.
const pool = Buffer.alloc(ID_BYTES * 512);
let offset = pool.length;

/** `bytes` random bytes from the pool, refilled from the CSPRNG, in `encoding`. */
function draw(bytes: number, encoding: 'base64url' | 'hex'): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return id;
}

/** 12 random bytes as base64url (16 characters). */
export function randomId(): string {
  return draw(ID_BYTES, 'base64url');
}

/** 24 random bytes as 48 hex digits, as OpenAI's Responses ids (`resp_…`) have. */
export function randomHex48(): string {
  return draw(24, 'hex');
}
