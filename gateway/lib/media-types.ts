/*
 * File name extensions and the MIME types they stand for, for content that comes without a useful
 * type (an upload sent as application/octet-stream, say). The types are the registered ones; each
 * provider maps them to what its upstream wants.
 */

const BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ['txt', 'text/plain'],
  ['md', 'text/markdown'],
  ['csv', 'text/csv'],
  ['html', 'text/html'],
  ['json', 'application/json'],
  ['pdf', 'application/pdf'],
  ['doc', 'application/msword'],
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['ppt', 'application/vnd.ms-powerpoint'],
  ['pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ['epub', 'application/epub+zip'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['png', 'image/png'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['heic', 'image/heic'],
  ['heif', 'image/heif'],
  ['tif', 'image/tiff'],
  ['tiff', 'image/tiff'],
  ['bmp', 'image/bmp'],
  ['mp3', 'audio/mpeg'],
  ['wav', 'audio/wav'],
  ['m4a', 'audio/mp4'],
  ['mp4', 'audio/mp4'],
  ['ogg', 'audio/ogg'],
  ['oga', 'audio/ogg'],
  ['opus', 'audio/opus'],
  ['weba', 'audio/webm'],
  ['flac', 'audio/flac'],
  ['aac', 'audio/aac'],
]);

/** Types that say nothing about the content. */
const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** The MIME type of a file name's extension; undefined when the extension is unknown or missing. */
export function mediaTypeOfName(filename: string): string | undefined {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? undefined : BY_EXTENSION.get(filename.slice(dot + 1).toLowerCase());
}

/**
 * A declared type (lower case, without parameters), or the filename's when the declared one is
 * generic; `application/octet-stream` when neither says anything.
 */
export function mediaTypeOf(declared: string | undefined, filename: string): string {
  const type = (declared ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!GENERIC.has(type)) return type;
  return mediaTypeOfName(filename) ?? 'application/octet-stream';
}
