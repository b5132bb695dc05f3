import { BadRequestError } from '../openai/errors.ts';

/** A file a client uploaded with `POST /v1/files`, as the gateway keeps it. */
export interface StoredFile {
  /** `file-` and random characters. */
  id: string;
  filename: string;
  /** Its size in bytes. */
  bytes: number;
  /** `user_data` or `vision`. */
  purpose: string;
  /** From the upload's Content-Type, or from the filename's extension when that type is generic (media-types.ts). */
  mimeType: string;
  /** SHA-256 of the bytes, in hex: what the providers' upload caches are keyed by. */
  sha256: string;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds after which the file is gone; null: kept until deleted. */
  expiresAt: number | null;
}

/**
 * One client's files, as a provider reads them for a `file_id` content part. Another client's file
 * is not found, exactly as a file that does not exist.
 */
export interface FileReader {
  find(id: string): Promise<StoredFile | undefined>;
  /** The file's bytes as a Blob read from disk as it is read (fs.openAsBlob), not held in memory. */
  content(file: StoredFile): Promise<Blob>;
}

/** The client's file a `file_id` part names; a 400 `file_not_found` naming `param` when it has none by that id. */
export async function clientFile(files: FileReader | undefined, id: string, param: string): Promise<StoredFile> {
  const file = await files?.find(id);
  if (file === undefined) {
    throw new BadRequestError(`No file with the id '${id}' was uploaded with this key (POST /v1/files).`, {
      param,
      code: 'file_not_found',
    });
  }
  return file;
}
