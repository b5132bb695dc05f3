import { createHash } from 'node:crypto';
import { clientFile, type FileReader } from '../../files/stored-file.ts';
import { fetchPublicImage, ImageFetchError, type ImageFetchOptions } from '../../lib/fetch-public-image.ts';
import { mediaTypeOf } from '../../lib/media-types.ts';
import { parseDataUrl } from '../../openai/data-url.ts';
import { BadRequestError } from '../../openai/errors.ts';
import { readInputAudio } from '../../openai/input-audio.ts';
import type { OpenAIContentPart, OpenAIMessage } from '../../openai/types.ts';
import type { ProviderCall } from '../provider.ts';
import {
  type AttachmentKind,
  acceptedExtensions,
  GIGACHAT_IMAGE_TYPES,
  gigaChatAttachmentType,
  MAX_ATTACHMENT_BYTES,
  MAX_IMAGE_BYTES_PER_REQUEST,
  MAX_IMAGES_PER_MESSAGE,
  MAX_IMAGES_PER_REQUEST,
  MAX_MEDIA_BYTES_PER_REQUEST,
} from './attachment-types.ts';
import type { GigaChatUploads } from './uploads.ts';

/*
 * The image, audio and file parts of user messages → ids in GigaChat's file storage. Every limit
 * of GigaChat's (attachment-types.ts) is checked before anything is downloaded or uploaded, except
 * what only a download can tell (an image URL's type and size), checked right after it.
 */

/** Limits for image URLs GigaChat's uploads are downloaded from; the size is GigaChat's own. */
export type AttachmentDownloadOptions = Omit<ImageFetchOptions, 'signal' | 'types' | 'maxBytes'>;

/** GigaChat file ids by content part (`attachmentKey`), and every id the request refers to. */
export interface ResolvedAttachments {
  ids: ReadonlyMap<string, string>;
  all: readonly string[];
}

/** A request without attachments. */
export const NO_ATTACHMENTS: ResolvedAttachments = { ids: new Map(), all: [] };

/** Whether a user message has a part other than text (most requests have none, and skip the rest of this file). */
export function hasAttachments(messages: readonly OpenAIMessage[]): boolean {
  return messages.some(
    (message) =>
      message.role === 'user' &&
      typeof message.content !== 'string' &&
      message.content.some((part) => part.type !== 'text'),
  );
}

/** The key of the content part `messages[message].content[part]`. */
export function attachmentKey(message: number, part: number): string {
  return `${message}:${part}`;
}

type Source =
  | { from: 'data'; type: string; base64: string; filename: string | undefined; field: string }
  | { from: 'url'; url: string; field: string }
  | { from: 'file'; id: string; field: string };

interface Wanted {
  message: number;
  part: number;
  param: string;
  source: Source;
}

interface Ready {
  wanted: Wanted;
  kind: AttachmentKind;
  type: string;
  filename: string;
  bytes: number;
  sha256: string;
  content(): Promise<Blob>;
}

/** Uploads (or finds uploaded) every attachment of the request's user messages; the ids by part. */
export async function resolveGigaChatAttachments(
  messages: readonly OpenAIMessage[],
  call: ProviderCall,
  uploads: GigaChatUploads,
  download: AttachmentDownloadOptions,
): Promise<ResolvedAttachments> {
  const wanted = wantedAttachments(messages);
  if (wanted.length === 0) return NO_ATTACHMENTS;
  const known = await Promise.all(
    wanted.map((entry) => (entry.source.from === 'url' ? undefined : readKnown(entry, call.files))),
  );
  checkImageCounts(wanted, known);
  const ready = await downloadImages(wanted, known, download, call.signal);
  checkMediaTotal(ready);
  const ids = new Map<string, string>();
  // One after the other: a personal GigaChat key may run one request at a time.
  for (const entry of ready) {
    const { wanted: part } = entry;
    const id = await uploads.idFor(
      { sha256: entry.sha256, type: entry.type, filename: entry.filename, content: entry.content, param: part.param },
      call,
    );
    ids.set(attachmentKey(part.message, part.part), id);
  }
  return { ids, all: [...new Set(ids.values())] };
}

/** The non-text parts of user messages, read for where their bytes are; a malformed one is a 400. */
function wantedAttachments(messages: readonly OpenAIMessage[]): Wanted[] {
  const wanted: Wanted[] = [];
  for (const [message, entry] of messages.entries()) {
    if (entry.role !== 'user' || typeof entry.content === 'string') continue;
    for (const [part, content] of entry.content.entries()) {
      if (content.type === 'text') continue;
      const param = `messages[${message}].content[${part}]`;
      wanted.push({ message, part, param, source: sourceOf(content, param) });
    }
  }
  return wanted;
}

function sourceOf(part: OpenAIContentPart, param: string): Source {
  switch (part.type) {
    case 'image_url': {
      const field = `${param}.image_url.url`;
      const url = part.image_url.url;
      if (url.startsWith('https://')) return { from: 'url', url, field };
      const data = url.startsWith('data:') ? parseDataUrl(url) : undefined;
      if (data === undefined) {
        throw new BadRequestError('Image URLs must be https:// links or base64 data: URLs (data:image/png;base64,…).', {
          param: field,
          code: 'invalid_image_url',
        });
      }
      return { from: 'data', type: data.mimeType, base64: data.data, filename: undefined, field };
    }
    case 'input_audio': {
      const field = `${param}.input_audio`;
      const audio = readInputAudio(part.input_audio, field);
      const type = audio.format === 'wav' ? 'audio/wav' : 'audio/mpeg';
      return { from: 'data', type, base64: audio.data, filename: undefined, field: `${field}.data` };
    }
    case 'file': {
      const file = part.file as { file_data?: unknown; file_id?: unknown; filename?: unknown };
      const field = `${param}.file`;
      if (typeof file.file_id === 'string' && file.file_data === undefined) {
        return { from: 'file', id: file.file_id, field: `${field}.file_id` };
      }
      const data =
        typeof file.file_data === 'string' && file.file_id === undefined ? parseDataUrl(file.file_data) : undefined;
      if (data === undefined) {
        throw new BadRequestError(
          "A file part needs either 'file_id' (from POST /v1/files) or 'file_data' as a base64 data: URL with a 'filename'.",
          { param: field, code: 'invalid_file' },
        );
      }
      const filename = typeof file.filename === 'string' ? file.filename : undefined;
      return {
        from: 'data',
        type: mediaTypeOf(data.mimeType, filename ?? ''),
        base64: data.data,
        filename,
        field: `${field}.file_data`,
      };
    }
    default:
      throw new BadRequestError(`GigaChat does not take '${(part as { type: string }).type}' parts.`, {
        param: `${param}.type`,
        code: 'unsupported_content',
      });
  }
}

/** A data: or file_id part, checked for GigaChat's types and sizes, its bytes ready to upload. */
async function readKnown(wanted: Wanted, files: FileReader | undefined): Promise<Ready> {
  const { source } = wanted;
  if (source.from === 'data') {
    const accepted = acceptedType(wanted, source.type, source.field);
    const bytes = Math.floor((source.base64.length * 3) / 4) - (source.base64.match(/=+$/)?.[0].length ?? 0);
    checkSize(wanted, accepted.kind, bytes);
    return inMemory(wanted, accepted, source.filename, Buffer.from(source.base64, 'base64'));
  }
  if (source.from !== 'file') throw new Error('image URLs are read by downloadImages');
  const file = await clientFile(files, source.id, source.field);
  const accepted = acceptedType(wanted, file.mimeType, source.field);
  checkSize(wanted, accepted.kind, file.bytes);
  return {
    wanted,
    ...accepted,
    filename: uploadName(file.filename, accepted),
    bytes: file.bytes,
    sha256: file.sha256,
    content: () => files?.content(file) as Promise<Blob>,
  };
}

/** A part whose bytes are in memory (decoded from base64, or downloaded), ready to upload. */
function inMemory(wanted: Wanted, accepted: AcceptedPart, filename: string | undefined, data: Buffer): Ready {
  return {
    wanted,
    ...accepted,
    filename: uploadName(filename, accepted),
    bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    content: async () => new Blob([data], { type: accepted.type }),
  };
}

/** What a part is for GigaChat: its kind, the type it is uploaded as, and that type's extension. */
type AcceptedPart = { kind: AttachmentKind; type: string; extension: string };

function acceptedType(wanted: Wanted, mimeType: string, field: string): AcceptedPart {
  const accepted = gigaChatAttachmentType(mimeType);
  if (accepted === undefined) {
    throw new BadRequestError(
      `GigaChat does not take files of type '${mimeType}' (${wanted.param}); it takes ${acceptedExtensions()}.`,
      { param: field, code: 'unsupported_file_type' },
    );
  }
  if (wanted.source.field.endsWith('.image_url.url') && accepted.kind !== 'image') {
    throw new BadRequestError(`An image_url part must carry an image, not '${mimeType}'.`, {
      param: field,
      code: 'invalid_image_url',
    });
  }
  return { kind: accepted.kind, type: accepted.upload, extension: accepted.extension };
}

function checkSize(wanted: Wanted, kind: AttachmentKind, bytes: number): void {
  const limit = MAX_ATTACHMENT_BYTES[kind];
  if (bytes > limit) {
    throw new BadRequestError(
      `GigaChat takes ${kind} files of up to ${limit / 1024 / 1024} MiB; this one has ${bytes} bytes.`,
      {
        param: wanted.param,
        code: 'file_too_large',
      },
    );
  }
  if (bytes === 0) throw new BadRequestError('The file is empty.', { param: wanted.param, code: 'invalid_file' });
}

/** One image per message and ten per request; an image URL counts as an image before it is downloaded. */
function checkImageCounts(wanted: readonly Wanted[], known: readonly (Ready | undefined)[]): void {
  const perMessage = new Map<number, number>();
  let total = 0;
  for (const [index, entry] of wanted.entries()) {
    const isImage = entry.source.from === 'url' || known[index]?.kind === 'image';
    if (!isImage) continue;
    const count = (perMessage.get(entry.message) ?? 0) + 1;
    perMessage.set(entry.message, count);
    total += 1;
    if (count > MAX_IMAGES_PER_MESSAGE) {
      throw new BadRequestError(`GigaChat takes one image per message; send this one in a message of its own.`, {
        param: entry.param,
        code: 'too_many_images',
      });
    }
    if (total > MAX_IMAGES_PER_REQUEST) {
      throw new BadRequestError(`GigaChat takes at most ${MAX_IMAGES_PER_REQUEST} images per request.`, {
        param: entry.param,
        code: 'too_many_images',
      });
    }
  }
}

function checkMediaTotal(ready: readonly Ready[]): void {
  let total = 0;
  let images = 0;
  for (const entry of ready) {
    if (entry.kind === 'document') continue;
    total += entry.bytes;
    if (entry.kind === 'image') images += entry.bytes;
    if (images >= MAX_IMAGE_BYTES_PER_REQUEST) {
      throw new BadRequestError(
        `GigaChat takes images of less than ${MAX_IMAGE_BYTES_PER_REQUEST / 1024 / 1024} MiB together per request.`,
        { param: entry.wanted.param, code: 'file_too_large' },
      );
    }
    if (total >= MAX_MEDIA_BYTES_PER_REQUEST) {
      throw new BadRequestError(
        `GigaChat takes images and audio of less than ${MAX_MEDIA_BYTES_PER_REQUEST / 1024 / 1024} MiB together per request.`,
        { param: entry.wanted.param, code: 'file_too_large' },
      );
    }
  }
}

/** Downloads the image URLs (in parallel; the first that fails stops the others) and returns every part ready. */
async function downloadImages(
  wanted: readonly Wanted[],
  known: readonly (Ready | undefined)[],
  options: AttachmentDownloadOptions,
  signal: AbortSignal,
): Promise<Ready[]> {
  if (known.every((entry) => entry !== undefined)) return known as Ready[];
  const siblings = new AbortController();
  const both = AbortSignal.any([signal, siblings.signal]);
  return Promise.all(
    wanted.map(async (entry, index) => {
      const ready = known[index];
      if (ready !== undefined) return ready;
      const { url, field } = entry.source as Extract<Source, { from: 'url' }>;
      try {
        const image = await fetchPublicImage(new URL(url), {
          ...options,
          types: GIGACHAT_IMAGE_TYPES,
          maxBytes: MAX_ATTACHMENT_BYTES.image,
          signal: both,
        });
        return inMemory(entry, acceptedType(entry, image.mimeType, field), undefined, image.data);
      } catch (error) {
        siblings.abort();
        if (error instanceof ImageFetchError) {
          throw new BadRequestError(`The image at this URL cannot be used: ${error.message}.`, {
            param: field,
            code: 'invalid_image_url',
          });
        }
        if (error instanceof TypeError) {
          throw new BadRequestError('The image URL is not a valid URL.', { param: field, code: 'invalid_image_url' });
        }
        throw error;
      }
    }),
  );
}

/**
 * The name the file is uploaded under: the client's, without folders or control characters and at
 * most 200 characters, ending in the extension of its type (GigaChat reads a file by its name too).
 */
function uploadName(given: string | undefined, accepted: { kind: AttachmentKind; extension: string }): string {
  const base = (given ?? '')
    .split(/[\\/]/)
    .at(-1)
    ?.replace(/[\p{Cc}\p{Cf}"]/gu, '')
    .trim()
    .slice(0, 200);
  const name = base === undefined || base === '' || base.startsWith('.') ? accepted.kind : base;
  return name.toLowerCase().endsWith(`.${accepted.extension}`) ? name : `${name}.${accepted.extension}`;
}
