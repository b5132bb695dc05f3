import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import formidable, { errors as formidableErrors } from 'formidable';
import type { GatewayFiles } from '../files/gateway-files.ts';
import type { StoredFile } from '../files/stored-file.ts';
import { mediaTypeOf } from '../lib/media-types.ts';
import { BadRequestError, GatewayError, NotFoundError } from '../openai/errors.ts';
import { listPage } from './list-page.ts';
import { queryParams } from './query-params.ts';
import type { GatewayContext, GatewayMiddleware } from './state.ts';

/*
 * OpenAI's Files API (POST/GET /v1/files, GET/DELETE /v1/files/{id}, GET /v1/files/{id}/content)
 * over the gateway's own file store (files/gateway-files.ts). An upload is parsed by formidable
 * straight to disk, never held whole in memory. Every file belongs to the client key that uploaded it.
 */

/** The largest file: the largest GigaChat takes (a document, 40 MiB). */
export const MAX_FILE_BYTES = 40 * 1024 * 1024;
const PURPOSES = new Set(['user_data', 'vision']);
const MIN_EXPIRY_SECONDS = 3600;
const MAX_EXPIRY_SECONDS = 2_592_000;
const MAX_LIST = 10_000;

/** A StoredFile as OpenAI's FileObject. */
function fileObject(file: StoredFile) {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
    expires_at: file.expiresAt,
    status_details: null,
  };
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`No such File object: ${id.slice(0, 100)}`, { param: 'file_id', code: 'file_not_found' });
}

/** One text field of the form: its only value, or undefined. */
function field(fields: formidable.Fields, name: string): string | undefined {
  const values = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (values === undefined) return undefined;
  if (values.length !== 1) throw new BadRequestError(`Send '${name}' once.`, { param: name });
  return values[0];
}

function expirySeconds(fields: formidable.Fields): number | undefined {
  const anchor = field(fields, 'expires_after[anchor]');
  const seconds = field(fields, 'expires_after[seconds]');
  if (anchor === undefined && seconds === undefined) return undefined;
  if (anchor !== 'created_at') {
    throw new BadRequestError("expires_after[anchor] must be 'created_at'.", { param: 'expires_after.anchor' });
  }
  const value = Number(seconds);
  if (!Number.isInteger(value) || value < MIN_EXPIRY_SECONDS || value > MAX_EXPIRY_SECONDS) {
    throw new BadRequestError(
      `expires_after[seconds] must be a whole number from ${MIN_EXPIRY_SECONDS} to ${MAX_EXPIRY_SECONDS}.`,
      { param: 'expires_after.seconds' },
    );
  }
  return value;
}

/** A client's file name kept as metadata: without control characters, at most 255 characters. */
function cleanName(name: string | null | undefined): string {
  const clean = (name ?? '')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim()
    .slice(0, 255);
  return clean === '' ? 'file' : clean;
}

/** formidable's refusals as the client's 4xx. */
function uploadRefusal(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === formidableErrors.biggerThanMaxFileSize || code === formidableErrors.biggerThanTotalMaxFileSize) {
    return new GatewayError(
      413,
      'invalid_request_error',
      `The file is larger than ${MAX_FILE_BYTES} bytes, the largest this gateway keeps.`,
      { param: 'file', code: 'file_too_large' },
    );
  }
  if (code === formidableErrors.maxFilesExceeded) return new BadRequestError('Send one file.', { param: 'file' });
  if (code === formidableErrors.noEmptyFiles || code === formidableErrors.smallerThanMinFileSize) {
    return new BadRequestError('The file is empty.', { param: 'file' });
  }
  if (typeof code === 'number' && code >= 1000 && code < 1100) {
    return new BadRequestError(
      `The body is not a multipart/form-data upload with 'file' and 'purpose' (${(error as Error).message}).`,
      {
        param: 'file',
        code: 'invalid_multipart',
      },
    );
  }
  return error;
}

export function filesApi(
  files: GatewayFiles,
): Record<'create' | 'list' | 'retrieve' | 'remove' | 'content', GatewayMiddleware> {
  const owner = (ctx: GatewayContext) => ctx.state.clientName;

  async function find(ctx: GatewayContext): Promise<StoredFile> {
    const id = String(ctx.params.id ?? '');
    const file = await files.find(owner(ctx), id);
    if (file === undefined) throw notFound(id);
    return file;
  }

  return {
    async create(ctx) {
      const type = ctx.get('content-type');
      if (!/^multipart\/form-data/i.test(type)) {
        throw new BadRequestError("Upload files as multipart/form-data with the fields 'file' and 'purpose'.", {
          param: 'file',
          code: 'invalid_multipart',
        });
      }
      // Each upload in a folder of its own, removed whatever happens: a refused upload leaves nothing.
      const folder = join(files.incomingDir, randomBytes(12).toString('hex'));
      await mkdir(folder, { mode: 0o700 });
      try {
        const form = formidable({
          uploadDir: folder,
          maxFiles: 1,
          maxFileSize: MAX_FILE_BYTES,
          maxTotalFileSize: MAX_FILE_BYTES,
          maxFields: 10,
          maxFieldsSize: 64 * 1024,
          allowEmptyFiles: false,
          minFileSize: 1,
          hashAlgorithm: 'sha256',
        });
        const [fields, parts] = await form.parse(ctx.req).catch((error: unknown) => {
          throw uploadRefusal(error);
        });
        const uploaded = Object.hasOwn(parts, 'file') ? parts.file : undefined;
        const others = Object.keys(parts).filter((name) => name !== 'file');
        if (others.length > 0) throw new BadRequestError("The only file field is 'file'.", { param: others[0] });
        const file = uploaded?.[0];
        if (file === undefined) throw new BadRequestError("The upload has no 'file'.", { param: 'file' });
        const purpose = field(fields, 'purpose');
        if (purpose === undefined || !PURPOSES.has(purpose)) {
          throw new BadRequestError("purpose must be 'user_data' or 'vision' on this gateway.", {
            param: 'purpose',
            code: purpose === undefined ? null : 'unsupported_purpose',
          });
        }
        const filename = cleanName(file.originalFilename);
        const stored = await files.save(owner(ctx), {
          tempPath: file.filepath,
          filename,
          bytes: file.size,
          mimeType: mediaTypeOf(file.mimetype ?? undefined, filename),
          sha256: String(file.hash),
          purpose,
          expiresAfterSeconds: expirySeconds(fields),
        });
        ctx.body = fileObject(stored);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },

    async list(ctx) {
      const query = queryParams(ctx);
      const limit = query.integer('limit', 1, MAX_LIST) ?? MAX_LIST;
      const order = query.order();
      const purpose = query.one('purpose');
      let all = await files.list(owner(ctx));
      if (order === 'asc') all.reverse();
      if (purpose !== undefined) all = all.filter((file) => file.purpose === purpose);
      ctx.body = listPage(all, {
        after: query.one('after'),
        limit,
        idOf: (file) => file.id,
        show: fileObject,
        what: 'file of this key',
      });
    },

    async retrieve(ctx) {
      ctx.body = fileObject(await find(ctx));
    },

    async remove(ctx) {
      const id = String(ctx.params.id ?? '');
      if (!(await files.delete(owner(ctx), id))) throw notFound(id);
      ctx.body = { id, object: 'file', deleted: true };
    },

    async content(ctx) {
      const file = await find(ctx);
      const path = await files.contentPath(file);
      ctx.type = file.mimeType;
      ctx.length = file.bytes;
      // The type is the client's word: never let a browser render the file as a page of the gateway.
      ctx.set('x-content-type-options', 'nosniff');
      ctx.attachment(file.filename);
      ctx.body = createReadStream(path);
    },
  };
}
