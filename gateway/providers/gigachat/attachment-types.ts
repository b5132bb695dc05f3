/*
 * What GigaChat's file storage takes, from Sber's reference for POST /files
 * (developers.sber.ru/docs/ru/gigachat/api/reference/rest/post-file) and for POST /chat/completions
 * (…/post-chat): the formats by MIME type, the size of one file of each kind, one image per
 * message, ten images and under 20 MB of them per request, and audio and images together under
 * 80 MB. "Мб" is read as MiB.
 */

export type AttachmentKind = 'image' | 'audio' | 'document';

interface AcceptedType {
  kind: AttachmentKind;
  /** The type as GigaChat's table lists it, which is what the upload says. */
  upload: string;
  /** The extension of the uploaded file's name. */
  extension: string;
}

const MIB = 1024 * 1024;

/** The largest file of each kind. */
export const MAX_ATTACHMENT_BYTES: Readonly<Record<AttachmentKind, number>> = {
  image: 15 * MIB,
  audio: 35 * MIB,
  document: 40 * MIB,
};

/** Audio and images of one request together stay under this (POST /files). */
export const MAX_MEDIA_BYTES_PER_REQUEST = 80 * MIB;
/** The images one request refers to stay under this together (POST /chat/completions: "общий размер запроса"). */
export const MAX_IMAGE_BYTES_PER_REQUEST = 20 * MIB;
export const MAX_IMAGES_PER_MESSAGE = 1;
export const MAX_IMAGES_PER_REQUEST = 10;

const accepted = (kind: AttachmentKind, upload: string, extension: string): AcceptedType => ({
  kind,
  upload,
  extension,
});

/** Each MIME type a client may send (GigaChat's own spellings and the registered ones) → what it is for GigaChat. */
const ACCEPTED: ReadonlyMap<string, AcceptedType> = new Map([
  ['image/jpeg', accepted('image', 'image/jpeg', 'jpg')],
  ['image/jpg', accepted('image', 'image/jpeg', 'jpg')],
  ['image/png', accepted('image', 'image/png', 'png')],
  ['image/tiff', accepted('image', 'image/tiff', 'tiff')],
  ['image/bmp', accepted('image', 'image/bmp', 'bmp')],
  ['text/plain', accepted('document', 'text/plain', 'txt')],
  ['application/msword', accepted('document', 'application/msword', 'doc')],
  [
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    accepted('document', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'),
  ],
  ['application/pdf', accepted('document', 'application/pdf', 'pdf')],
  ['application/epub', accepted('document', 'application/epub', 'epub')],
  ['application/epub+zip', accepted('document', 'application/epub', 'epub')],
  ['application/ppt', accepted('document', 'application/ppt', 'ppt')],
  ['application/vnd.ms-powerpoint', accepted('document', 'application/ppt', 'ppt')],
  ['application/pptx', accepted('document', 'application/pptx', 'pptx')],
  [
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    accepted('document', 'application/pptx', 'pptx'),
  ],
  ['audio/mp4', accepted('audio', 'audio/mp4', 'mp4')],
  ['audio/mp3', accepted('audio', 'audio/mp3', 'mp3')],
  ['audio/mpeg', accepted('audio', 'audio/mp3', 'mp3')],
  ['audio/x-m4a', accepted('audio', 'audio/x-m4a', 'm4a')],
  ['audio/m4a', accepted('audio', 'audio/x-m4a', 'm4a')],
  ['audio/wav', accepted('audio', 'audio/wav', 'wav')],
  ['audio/x-wav', accepted('audio', 'audio/wav', 'wav')],
  ['audio/wave', accepted('audio', 'audio/wav', 'wav')],
  ['audio/x-pn-wav', accepted('audio', 'audio/wav', 'wav')],
  ['audio/webm', accepted('audio', 'audio/webm', 'weba')],
  ['audio/ogg', accepted('audio', 'audio/x-ogg', 'ogg')],
  ['audio/x-ogg', accepted('audio', 'audio/x-ogg', 'ogg')],
  ['audio/opus', accepted('audio', 'audio/opus', 'opus')],
]);

/** What GigaChat makes of a MIME type; undefined for one it does not take. */
export function gigaChatAttachmentType(mimeType: string): AcceptedType | undefined {
  return ACCEPTED.get(mimeType);
}

/** Image types GigaChat takes: what an image URL must serve. */
export const GIGACHAT_IMAGE_TYPES: ReadonlySet<string> = new Set(
  [...ACCEPTED].flatMap(([type, { kind }]) => (kind === 'image' ? [type] : [])),
);

/** The formats of each kind, for messages: `jpeg, png, tiff, bmp`. */
export function acceptedExtensions(): string {
  const byKind = new Map<AttachmentKind, Set<string>>();
  for (const { kind, extension } of ACCEPTED.values()) {
    byKind.set(kind, (byKind.get(kind) ?? new Set()).add(extension));
  }
  return [...byKind].map(([kind, extensions]) => `${kind}s: ${[...extensions].join(', ')}`).join('; ');
}
