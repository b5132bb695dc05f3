import { randomFillSync } from 'node:crypto';

const ID_BYTES = 12;
// Asking the OS for 12 bytes per request costs more than the rest of building an answer's id.
const pool = Buffer.alloc(ID_BYTES * 512);
let offset = pool.length;

/** 12 random bytes as base64url (16 characters), drawn from a pool refilled from the CSPRNG. */
export function randomId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
