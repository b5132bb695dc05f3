import http from 'node:http';
import { connect } from 'node:net';
import OpenAI from 'openai';

/*
 * A client uploading a large body, run as its own process: in the test process nock's interceptors
 * stand between a client and its socket (they queue writes in memory and change how a reset
 * surfaces), which would hide exactly what the large-body tests look for. Prints one JSON line.
 *
 *   node test/helpers/upload-client.ts '<json UploadJob>'
 */

export interface UploadJob {
  client: 'node-http' | 'openai-chat' | 'endless';
  url: string;
  authorization: string;
  chunked: boolean;
  bytes: number;
}

export interface UploadResult {
  status: number;
  body: string;
  /** Bytes of body written (node-http, endless); less than all once the client stopped on the answer. */
  sent: number;
  /** The client's error code or class, when the upload or the answer failed. */
  error?: string;
}

const CHUNK = Buffer.alloc(1024 * 1024, 'a');

/** Node's http client: Content-Length or chunked; resolves once the answer was read and the request closed. */
function nodeHttp(job: UploadJob): Promise<UploadResult> {
  return new Promise((resolve) => {
    let sent = 0;
    let answer: { status: number; body: string } | undefined;
    let ended = false;
    let error: string | undefined;
    const settle = () => {
      if (ended && (answer !== undefined || error !== undefined)) {
        resolve({ ...(answer ?? { status: 0, body: '' }), sent, ...(error === undefined ? {} : { error }) });
      }
    };
    const headers: Record<string, string> = { authorization: job.authorization, 'content-type': 'application/json' };
    if (!job.chunked) headers['content-length'] = String(job.bytes);
    const request = http.request(job.url, { method: 'POST', headers, agent: false });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        answer = { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
        settle();
      });
    });
    // A client that has its whole answer stops uploading once the server closes its side: the
    // request then closes without 'finish', and without an error.
    request.on('close', () => {
      ended = true;
      settle();
    });
    request.on('error', (failure: NodeJS.ErrnoException) => {
      error = failure.code ?? failure.message;
      ended = true;
      settle();
    });
    const write = () => {
      while (sent < job.bytes && !request.destroyed) {
        const piece = CHUNK.subarray(0, Math.min(CHUNK.length, job.bytes - sent));
        sent += piece.length;
        if (!request.write(piece)) {
          request.once('drain', write);
          return;
        }
      }
      request.end();
    };
    write();
  });
}

/** A fetch that sends a string body as a stream, so without Content-Length (chunked). */
const chunkedFetch: typeof fetch = (input, init) => {
  const body = init?.body;
  if (typeof body !== 'string') return fetch(input, init);
  const bytes = Buffer.from(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += CHUNK.length) {
        controller.enqueue(bytes.subarray(offset, offset + CHUNK.length));
      }
      controller.close();
    },
  });
  return fetch(input, { ...init, body: stream, duplex: 'half' } as RequestInit);
};

/** The openai SDK with its default retries; the error's status and code, or its class when no answer came. */
async function openai(job: UploadJob): Promise<UploadResult> {
  const client = new OpenAI({
    baseURL: job.url,
    apiKey: job.authorization.replace(/^Bearer /, ''),
    ...(job.chunked ? { fetch: chunkedFetch } : {}),
  });
  const content = 'a'.repeat(job.bytes);
  try {
    await client.chat.completions.create({ model: 'GigaChat', messages: [{ role: 'user', content }] });
    return { status: 200, body: '', sent: job.bytes };
  } catch (failure) {
    if (failure instanceof OpenAI.APIError && failure.status !== undefined) {
      return { status: failure.status, body: JSON.stringify({ error: failure.error }), sent: job.bytes };
    }
    return { status: 0, body: '', sent: job.bytes, error: (failure as Error).constructor.name };
  }
}

/** A raw chunked body that never ends, written until the server closes the connection. */
function endless(job: UploadJob): Promise<UploadResult> {
  const url = new URL(job.url);
  return new Promise((resolve) => {
    let sent = 0;
    let head = '';
    const frame = Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]);
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: ${job.authorization}\r\n` +
          'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      );
      const write = () => {
        while (!socket.destroyed) {
          sent += CHUNK.length;
          if (!socket.write(frame)) {
            socket.once('drain', write);
            return;
          }
        }
      };
      write();
    });
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
    });
    socket.on('error', (failure: NodeJS.ErrnoException) => {
      error = failure.code;
    });
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const body = head.slice(head.indexOf('\r\n\r\n') + 4);
      resolve({ status, body, sent, ...(error === undefined ? {} : { error }) });
    });
  });
}

if (import.meta.main) {
  const job = JSON.parse(process.argv[2] ?? '{}') as UploadJob;
  const run = job.client === 'node-http' ? nodeHttp : job.client === 'endless' ? endless : openai;
  process.stdout.write(`${JSON.stringify(await run(job))}\n`);
}
