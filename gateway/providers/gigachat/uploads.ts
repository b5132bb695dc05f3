import { createHash } from 'node:crypto';
import type { GigaChatSettings } from '../../config.ts';
import type { Logger } from '../../lib/logger.ts';
import { multipartBody } from '../../lib/multipart-body.ts';
import { PeriodicSweep } from '../../lib/periodic-sweep.ts';
import { type Store, storeEntries, storeNamespace } from '../../lib/store.ts';
import { UpstreamError } from '../../openai/errors.ts';
import type { ProviderCall } from '../provider.ts';
import type { GigaChatClient } from './client.ts';
import { mapGigaChatError, mapGigaChatFileError } from './map-error.ts';
import type { GigaChatDeletedFile, GigaChatFile } from './wire-types.ts';

/** Bytes to upload: what they are and where to read them. */
export interface UploadContent {
  /** SHA-256 of the bytes, hex: the cache key. */
  sha256: string;
  /** The MIME type as GigaChat lists it. */
  type: string;
  filename: string;
  content(): Promise<Blob>;
  /** The content part it came from, named in an error about it. */
  param: string;
}

interface UploadRecord {
  id: string;
  /** Epoch milliseconds of the upload. */
  uploadedAt: number;
}

export interface GigaChatUploadsOptions {
  store: Store;
  settings: GigaChatSettings;
  client: GigaChatClient;
  /** How long an upload is reused; after it the gateway deletes the file from GigaChat. */
  retentionMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * An upload may be referenced by a request that read it just before its retention ended; the sweep
 * leaves it this much longer.
 */
const SWEEP_GRACE_MS = 15 * 60_000;
const SWEEP_EVERY_MS = 10 * 60_000;

/** The store namespace of one GigaChat account's uploads: a digest of where it calls and with which key. */
export function uploadsNamespace(settings: GigaChatSettings): string {
  const digest = createHash('sha256')
    .update(`${settings.baseUrl.href}\n${settings.authUrl.href}\n${settings.scope}\n${settings.credentials}`)
    .digest('hex');
  return `gigachat-uploads-${digest.slice(0, 32)}`;
}

/**
 * The files the gateway put into one GigaChat account's storage, by the SHA-256 of their bytes, in
 * the store: the same bytes (the next turn of a chat resends its history) are uploaded once per
 * account, and deleted from GigaChat once the retention is over. One account's namespace is never
 * read with another's credential, so one tenant's file ids never reach another's requests.
 */
export class GigaChatUploads {
  readonly #records: Store;
  readonly #client: GigaChatClient;
  readonly #retentionMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #namespace: string;
  /** Uploads under way, so two requests with the same bytes share one. */
  readonly #pending = new Map<string, Promise<string>>();
  readonly #sweep: PeriodicSweep;

  constructor({ store, settings, client, retentionMs, logger, now = Date.now }: GigaChatUploadsOptions) {
    this.#namespace = uploadsNamespace(settings);
    this.#records = storeNamespace(store, this.#namespace);
    this.#client = client;
    this.#retentionMs = retentionMs;
    this.#logger = logger;
    this.#now = now;
    this.#sweep = new PeriodicSweep({
      store,
      lease: `${this.#namespace}:sweep`,
      everyMs: SWEEP_EVERY_MS,
      logger,
      label: 'GigaChat uploads: the retention sweep',
      sweep: async (removed) => {
        const oldest = this.#now() - this.#retentionMs - SWEEP_GRACE_MS;
        for (const [sha256, record] of await this.#entries()) {
          if (record.uploadedAt > oldest) continue;
          if (await this.#remove(record.id)) {
            await this.#records.delete(sha256);
            removed();
          }
        }
      },
    });
  }

  /** Sweeps now and then until close(). */
  start(): void {
    this.#sweep.start();
  }

  close(): void {
    this.#sweep.close();
  }

  /** GigaChat's id for these bytes: uploaded now, or earlier within the retention. */
  async idFor(upload: UploadContent, call: ProviderCall): Promise<string> {
    const pending = this.#pending.get(upload.sha256);
    if (pending !== undefined) return pending;
    const work = this.#find(upload, call).finally(() => this.#pending.delete(upload.sha256));
    this.#pending.set(upload.sha256, work);
    return work;
  }

  /** Forgets ids GigaChat no longer has, so the next request uploads their bytes again. */
  async forget(ids: readonly string[]): Promise<void> {
    const gone = new Set(ids);
    for (const [sha256, record] of await this.#entries()) {
      if (gone.has(record.id)) await this.#records.delete(sha256);
    }
  }

  /** Deletes from GigaChat and from the store every upload past its retention; returns how many. */
  sweep(): Promise<number> {
    return this.#sweep.run();
  }

  async #find(upload: UploadContent, call: ProviderCall): Promise<string> {
    const record = (await this.#records.get(upload.sha256)) as UploadRecord | undefined;
    if (record !== undefined && this.#now() - record.uploadedAt < this.#retentionMs) return record.id;
    const content = await upload.content();
    const answer = await this.#client.upload<GigaChatFile>(
      '/files',
      () =>
        multipartBody({ purpose: 'general' }, { field: 'file', filename: upload.filename, type: upload.type, content }),
      call,
      mapGigaChatFileError(upload.param),
    );
    if (typeof answer?.id !== 'string' || answer.id === '') {
      throw new UpstreamError('GigaChat answered an upload (POST /files) without a file id.');
    }
    await this.#records.set(upload.sha256, { id: answer.id, uploadedAt: this.#now() } satisfies UploadRecord);
    // An expired upload's record is replaced here, so the sweep would not find it: it goes now.
    if (record !== undefined) void this.#remove(record.id);
    return answer.id;
  }

  /** Deletes one file from GigaChat; true once it is gone (already gone counts). */
  async #remove(id: string): Promise<boolean> {
    try {
      await this.#client.json<GigaChatDeletedFile>(
        'POST',
        `/files/${encodeURIComponent(id)}/delete`,
        undefined,
        undefined,
        undefined,
        (status, body, headers) =>
          status === 404
            ? new UpstreamError('already deleted', { code: 'file_gone' })
            : mapGigaChatError(status, body, headers),
      );
      return true;
    } catch (error) {
      if ((error as UpstreamError).code === 'file_gone') return true;
      this.#logger.warn(
        { err: error, file: id },
        'GigaChat uploads: a file could not be deleted; the next sweep tries again',
      );
      return false;
    }
  }

  async #entries(): Promise<Array<[sha256: string, record: UploadRecord]>> {
    return (await storeEntries(this.#records)).filter(
      (entry): entry is [string, UploadRecord] => typeof (entry[1] as UploadRecord | undefined)?.id === 'string',
    );
  }
}
