import { randomBytes, randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/*
 * Without GATEWAY_SECRET_KEY, a single instance on a SQLite store keeps a generated key in a file
 * beside the store, as n8n keeps its encryption key: zero configuration, and a stolen store file
 * alone reveals no secret. The file holds the key as GATEWAY_SECRET_KEY would (base64), so it can
 * be moved into the variable later.
 */

export interface KeyFile {
  /** The file's text, trimmed: a key in GATEWAY_SECRET_KEY's format unless someone changed it. */
  text: string;
  /** True when this call created the file. */
  created: boolean;
  /** True when others than the owner may read the file. */
  readableByOthers: boolean;
}

/** `<store file>.secret-key`, beside SQLite's own `-wal` and `-shm` files. */
export function keyFilePath(storePath: string): string {
  return `${storePath}.secret-key`;
}

/**
 * Reads the key file, first creating it with 32 random bytes when it does not exist. The key is
 * written to a temporary file (owner-only, synced) that is then hard-linked to the name: the link
 * fails if the name exists, so the file never appears half-written, and of two processes starting
 * together one creates it and the other reads that same key.
 */
export function readOrCreateKeyFile(path: string): KeyFile {
  const created = !existsSync(path) && createKeyFile(path);
  const readableByOthers = process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0;
  return { text: readFileSync(path, 'utf8').trim(), created, readableByOthers };
}

/** True when this call created the file; false when another process did meanwhile. */
function createKeyFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    const descriptor = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(descriptor, `${randomBytes(32).toString('base64')}\n`);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}
