import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, openAsBlob } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.ts';
import { PeriodicSweep } from '../lib/periodic-sweep.ts';
import { type Store, storeEntries, storeNamespace } from '../lib/store.ts';
import { ServiceUnavailableError } from '../openai/errors.ts';
import type { FileReader, StoredFile } from './stored-file.ts';

/*
 * The files clients upload with POST /v1/files: their bytes on disk under FILES_DIR, named by id
 * (never by the client's file name), their metadata in the store in one namespace per owner, so
 * one client key's reader cannot find another's file, and listing reads only the owner's files.
 */

export interface GatewayFilesOptions {
  /** FILES_DIR, created with mode 0700. */
  dir: string;
  store: Store;
  logger: Logger;
  now?: () => number;
}

/** A file written to a temporary path by the upload parser, with what it knows of it. */
export interface NewFile {
  tempPath: string;
  filename: string;
  bytes: number;
  mimeType: string;
  sha256: string;
  purpose: string;
  /** Seconds after creation after which it is deleted; undefined: kept until deleted. */
  expiresAfterSeconds?: number;
}

/** The file's bytes are not in this instance's FILES_DIR, though its metadata is in the store (a folder not shared). */
export class FileContentMissingError extends ServiceUnavailableError {
  constructor(id: string) {
    super(
      `The content of ${id} is not in FILES_DIR on this instance; with several instances FILES_DIR must be a folder they share.`,
      { code: 'file_content_missing', headers: { 'x-should-retry': 'false' } },
    );
  }
}

const SWEEP_EVERY_MS = 10 * 60_000;

/** Where an expiring file is listed for the sweep: owner digest and id. */
interface Expiring {
  owner: string;
  id: string;
  expiresAt: number;
}

export class GatewayFiles {
  readonly #dir: string;
  readonly #store: Store;
  readonly #expiring: Store;
  readonly #now: () => number;
  readonly #owners = new Map<string, Store>();
  readonly #sweep: PeriodicSweep;

  constructor({ dir, store, logger, now = Date.now }: GatewayFilesOptions) {
    mkdirSync(join(dir, 'incoming'), { recursive: true, mode: 0o700 });
    this.#dir = dir;
    this.#store = store;
    this.#expiring = storeNamespace(store, 'files-expiring');
    this.#now = now;
    this.#sweep = new PeriodicSweep({
      store,
      lease: 'files:sweep',
      everyMs: SWEEP_EVERY_MS,
      logger,
      label: 'files: the expiry sweep',
      sweep: async (removed) => {
        const now = Math.floor(this.#now() / 1000);
        for (const [, value] of await storeEntries(this.#expiring)) {
          const entry = value as Expiring | undefined;
          if (entry === undefined || entry.expiresAt > now) continue;
          await this.#remove(entry.owner, entry.id);
          removed();
        }
      },
    });
  }

  /** Where uploads are parsed to before they are kept (the same file system, so keeping is a rename). */
  get incomingDir(): string {
    return join(this.#dir, 'incoming');
  }

  /** Deletes expired files now and then until close(). */
  start(): void {
    this.#sweep.start();
  }

  close(): void {
    this.#sweep.close();
  }

  /** The owner's files as providers read them. `owner` is the client key's name; undefined for an open API. */
  reader(owner: string | undefined): FileReader {
    return {
      find: (id) => this.find(owner, id),
      content: (file) => this.content(file),
    };
  }

  async save(owner: string | undefined, upload: NewFile): Promise<StoredFile> {
    const id = `file-${randomBytes(18).toString('base64url')}`;
    const createdAt = Math.floor(this.#now() / 1000);
    const file: StoredFile = {
      id,
      filename: upload.filename,
      bytes: upload.bytes,
      purpose: upload.purpose,
      mimeType: upload.mimeType,
      sha256: upload.sha256,
      createdAt,
      expiresAt: upload.expiresAfterSeconds === undefined ? null : createdAt + upload.expiresAfterSeconds,
    };
    await rename(upload.tempPath, this.#path(id));
    await this.#of(owner).set(id, file);
    if (file.expiresAt !== null) {
      await this.#expiring.set(`${ownerDigest(owner)}:${id}`, {
        owner: ownerDigest(owner),
        id,
        expiresAt: file.expiresAt,
      } satisfies Expiring);
    }
    return file;
  }

  /** The owner's file; undefined when it has none by that id, or it expired. */
  async find(owner: string | undefined, id: string): Promise<StoredFile | undefined> {
    if (!/^file-[\w-]{1,64}$/.test(id)) return undefined;
    const file = (await this.#of(owner).get(id)) as StoredFile | undefined;
    if (file === undefined || this.#expired(file)) return undefined;
    return file;
  }

  /** The owner's files, newest first. */
  async list(owner: string | undefined): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    for (const [, value] of await storeEntries(this.#of(owner))) {
      const file = value as StoredFile | undefined;
      if (typeof file?.id === 'string' && !this.#expired(file)) files.push(file);
    }
    return files.sort((left, right) => right.createdAt - left.createdAt || right.id.localeCompare(left.id));
  }

  /** Deletes the owner's file; false when it has none by that id. */
  async delete(owner: string | undefined, id: string): Promise<boolean> {
    const file = await this.find(owner, id);
    if (file === undefined) return false;
    await this.#remove(ownerDigest(owner), id);
    return true;
  }

  /** The file's bytes, read from disk as they are read. */
  async content(file: StoredFile): Promise<Blob> {
    try {
      return await openAsBlob(this.#path(file.id), { type: file.mimeType });
    } catch {
      throw new FileContentMissingError(file.id);
    }
  }

  /** The path of the file's bytes, for streaming them out; throws FileContentMissingError when they are gone. */
  async contentPath(file: StoredFile): Promise<string> {
    const path = this.#path(file.id);
    if (!(await stat(path).catch(() => undefined))?.isFile()) throw new FileContentMissingError(file.id);
    return path;
  }

  /** Deletes every expired file (with a Redis store, one instance at a time); returns how many. */
  sweep(): Promise<number> {
    return this.#sweep.run();
  }

  async #remove(owner: string, id: string): Promise<void> {
    await rm(this.#path(id), { force: true });
    await this.#byDigest(owner).delete(id);
    await this.#expiring.delete(`${owner}:${id}`);
  }

  #expired(file: StoredFile): boolean {
    return file.expiresAt !== null && file.expiresAt <= Math.floor(this.#now() / 1000);
  }

  #path(id: string): string {
    return join(this.#dir, id);
  }

  #of(owner: string | undefined): Store {
    return this.#byDigest(ownerDigest(owner));
  }

  #byDigest(digest: string): Store {
    let view = this.#owners.get(digest);
    if (view === undefined) {
      view = storeNamespace(this.#store, `files-${digest}`);
      this.#owners.set(digest, view);
    }
    return view;
  }
}

/** An owner as it appears in store keys: a digest, never the key's name. An open API's files are the owner ''. */
function ownerDigest(owner: string | undefined): string {
  return createHash('sha256')
    .update(owner ?? '')
    .digest('hex')
    .slice(0, 32);
}
