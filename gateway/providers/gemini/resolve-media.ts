import { clientFile } from '../../files/stored-file.ts';
import { fetchPublicImage, ImageFetchError, type ImageFetchOptions } from '../../lib/fetch-public-image.ts';
import { parseDataUrl } from '../../openai/data-url.ts';
import { BadRequestError } from '../../openai/errors.ts';
import type { OpenAIMessage } from '../../openai/types.ts';
import type { ProviderCall } from '../provider.ts';
import type { GeminiInlineData } from './wire-types.ts';

export type MediaFetchOptions = Omit<ImageFetchOptions, 'signal' | 'types'>;

/** Image types Gemini accepts inline. */
export const IMAGE_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/heic',
  'image/heif',
]);

/** Image URLs one request may make the gateway download. */
const MAX_DOWNLOADS = 16;

/** The key of a `file_id` part's inline data in the map resolveGeminiMedia returns. */
export function storedFileKey(id: string): string {
  return `file_id:${id}`;
}

/**
 * Turns every image URL and `file_id` in the user messages into inline data: `data:` URLs are
 * decoded, https URLs downloaded (in parallel, each once) within the limits of
 * fetch-public-image.ts, files the client uploaded with POST /v1/files read from the gateway's
 * disk (Gemini gets them inline, as it gets file_data). One that cannot be used is a 400 naming
 * its place in the request.
 */
export async function resolveGeminiMedia(
  messages: readonly OpenAIMessage[],
  options: MediaFetchOptions,
  call: ProviderCall,
): Promise<Map<string, GeminiInlineData>> {
  const { signal } = call;
  const media = new Map<string, GeminiInlineData>();
  const downloads = new Map<string, string>();
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const [position, part] of message.content.entries()) {
      if (part.type === 'file' && typeof (part.file as { file_id?: unknown }).file_id === 'string') {
        const id = (part.file as { file_id: string }).file_id;
        const key = storedFileKey(id);
        if (!media.has(key))
          media.set(key, await storedFile(id, call, `messages[${index}].content[${position}].file.file_id`));
        continue;
      }
      if (part.type !== 'image_url') continue;
      const url = part.image_url.url;
      const param = `messages[${index}].content[${position}].image_url.url`;
      if (media.has(url) || downloads.has(url)) continue;
      if (url.startsWith('data:')) media.set(url, dataImage(url, param));
      else if (url.startsWith('https://')) downloads.set(url, param);
      else throw invalidImage('Image URLs must be https:// links or base64 data: URLs.', param);
    }
  }
  if (downloads.size > MAX_DOWNLOADS) {
    throw invalidImage(
      `At most ${MAX_DOWNLOADS} image URLs per request can be downloaded; send the others as data: URLs.`,
      [...downloads.values()][MAX_DOWNLOADS] as string,
    );
  }
  // Most requests have nothing to download, and AbortSignal.any is dear (weak references and a finalization registry).
  if (downloads.size === 0) return media;
  // The first image that cannot be used fails the request: the other downloads stop with it.
  const siblings = new AbortController();
  const both = AbortSignal.any([signal, siblings.signal]);
  await Promise.all(
    [...downloads].map(async ([url, param]) => {
      try {
        const image = await fetchPublicImage(new URL(url), { ...options, types: IMAGE_TYPES, signal: both });
        media.set(url, { mimeType: image.mimeType, data: image.data.toString('base64') });
      } catch (error) {
        siblings.abort();
        if (error instanceof ImageFetchError)
          throw invalidImage(`The image at this URL cannot be used: ${error.message}.`, param);
        if (error instanceof TypeError) throw invalidImage('The image URL is not a valid URL.', param);
        throw error;
      }
    }),
  );
  return media;
}

async function storedFile(id: string, call: ProviderCall, param: string): Promise<GeminiInlineData> {
  const file = await clientFile(call.files, id, param);
  const content = await call.files?.content(file);
  const data = Buffer.from((await content?.arrayBuffer()) ?? new ArrayBuffer(0)).toString('base64');
  return { mimeType: file.mimeType, data };
}

function dataImage(url: string, param: string): GeminiInlineData {
  const inline = parseDataUrl(url);
  if (inline === undefined)
    throw invalidImage('The data: URL is not base64 (expected data:image/png;base64,…).', param);
  if (!IMAGE_TYPES.has(inline.mimeType)) {
    throw invalidImage(
      `Images of type ${inline.mimeType} are not supported; use ${[...IMAGE_TYPES].join(', ')}.`,
      param,
    );
  }
  return inline;
}

function invalidImage(message: string, param: string): BadRequestError {
  return new BadRequestError(message, { param, code: 'invalid_image_url' });
}
