import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/*
 * A multipart/form-data body of text fields and one file, streamed from its Blob (a file on disk is
 * read as it is sent) with an exact Content-Length, which a FormData body through undici's
 * dispatcher would not give.
 */

export interface MultipartFile {
  field: string;
  filename: string;
  type: string;
  content: Blob;
}

export interface MultipartBody {
  body: Readable;
  headers: { 'content-type': string; 'content-length': string };
}

/** As browsers write a name inside quotes: `"`, CR and LF percent-encoded, the rest as UTF-8. */
function quoted(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A new body each call: a stream is read once, and a retried request needs its own. */
export function multipartBody(fields: Readonly<Record<string, string>>, file: MultipartFile): MultipartBody {
  const boundary = `----gigagate${randomBytes(12).toString('hex')}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(file.field)}"; filename="${quoted(file.filename)}"\r\n` +
    `Content-Type: ${file.type}\r\n\r\n`;
  const start = Buffer.from(head, 'utf8');
  const end = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  async function* parts() {
    yield start;
    for await (const piece of file.content.stream()) yield piece;
    yield end;
  }
  return {
    body: Readable.from(parts(), { objectMode: false }),
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(start.length + file.content.size + end.length),
    },
  };
}
