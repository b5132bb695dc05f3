import { keyFilePath, readOrCreateKeyFile } from './key-file.ts';
import { SecretBox } from './secret-box.ts';

/*
 * GATEWAY_SECRET_KEY: the key that seals secrets at rest. One key, or a comma-separated list for a
 * rotation: the first seals, all of them open. Without it a single instance on a SQLite store
 * uses a key generated in a file beside the store; a Redis store, shared by several instances,
 * requires it (each instance would otherwise make its own). The gateway and `npm run b24` load it
 * the same way. Like the configuration's, a bad value stops start-up with one line naming the
 * variable, which never echoes the value.
 */

export const SECRET_KEY_VARIABLE = 'GATEWAY_SECRET_KEY';
const FORMAT = '32 random bytes as base64 (openssl rand -base64 32) or as 64 hex digits (openssl rand -hex 32)';

/** A key setting that stops start-up; the message starts with the variable's name. */
export class SecretKeyError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'SecretKeyError';
    this.variable = variable;
  }
}

/** Where the store is: only a SQLite file has a folder to keep a generated key in. */
export type SecretStoreLocation = { kind: 'sqlite'; path: string } | { kind: 'redis' };

export interface SecretKeys {
  box: SecretBox;
  /** What to log at start-up: where the keys come from, and any warning. */
  notices: Array<{ level: 'info' | 'warn'; message: string }>;
}

/** A 32-byte key written as base64 (either alphabet, padding optional) or hex; undefined for anything else. */
export function decodeKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return Buffer.from(text, 'base64');
  return undefined;
}

/** The keys of GATEWAY_SECRET_KEY's value, the sealing key first. */
export function parseSecretKeys(raw: string, variable: string = SECRET_KEY_VARIABLE): Buffer[] {
  const entries = raw.split(',').map((entry) => entry.trim());
  const keys: Buffer[] = [];
  for (const [index, entry] of entries.entries()) {
    const key = decodeKey(entry);
    const which = entries.length === 1 ? 'the key' : `key ${index + 1}`;
    if (key === undefined) throw new SecretKeyError(variable, `${which} is not ${FORMAT}`);
    if (keys.some((known) => known.equals(key))) throw new SecretKeyError(variable, `${which} is listed twice`);
    keys.push(key);
  }
  return keys;
}

/** The secret box for a store: GATEWAY_SECRET_KEY's keys, or the key file beside a SQLite store. */
export function loadSecretKeys(raw: string | undefined, store: SecretStoreLocation): SecretKeys {
  const value = raw?.trim() ?? '';
  if (value !== '') {
    const box = new SecretBox(parseSecretKeys(value));
    const others = box.keyIds.length > 1 ? ` (and ${box.keyIds.slice(1).join(', ')} to open older values)` : '';
    return { box, notices: [{ level: 'info', message: `secrets at rest: sealed with key ${box.keyIds[0]}${others}` }] };
  }
  if (store.kind === 'redis') {
    throw new SecretKeyError(
      SECRET_KEY_VARIABLE,
      `is required with a Redis store, so every instance seals with the same key: set it to ${FORMAT}`,
    );
  }
  const path = keyFilePath(store.path);
  let file: ReturnType<typeof readOrCreateKeyFile>;
  try {
    file = readOrCreateKeyFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SecretKeyError(SECRET_KEY_VARIABLE, `is not set, and the key file ${path} cannot be used (${reason})`);
  }
  const key = decodeKey(file.text);
  if (key === undefined) {
    throw new SecretKeyError(
      SECRET_KEY_VARIABLE,
      `is not set, and the key file ${path} does not hold a key (${FORMAT}): restore it from a backup`,
    );
  }
  const box = new SecretBox([key]);
  const notices: SecretKeys['notices'] = [
    file.created
      ? {
          level: 'warn',
          message:
            `${SECRET_KEY_VARIABLE} is not set: generated the key that seals secrets at rest (${box.keyIds[0]}) in ${path} ` +
            '(owner-only). Back it up with the store: without it the stored secrets cannot be read',
        }
      : { level: 'info', message: `secrets at rest: sealed with key ${box.keyIds[0]} from ${path}` },
  ];
  if (file.readableByOthers) {
    notices.push({ level: 'warn', message: `${path} is readable by other users: chmod 600 it` });
  }
  return { box, notices };
}
