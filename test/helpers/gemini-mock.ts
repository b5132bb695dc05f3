import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendJson } from './gigachat-mock.ts';

/** A fake Gemini API key; the mock refuses any other, as Gemini does. */
export const TEST_GEMINI_KEY = 'test-gemini-key-not-real';

const FIXTURES = new URL('../fixtures/gemini/', import.meta.url);

/** A recorded Gemini JSON body (test/fixtures/gemini/SOURCES.md). */
export function geminiFixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as T;
}

/** A recorded Gemini stream: its events in order. */
export function geminiStreamFixture(name: string): any[] {
  return readFileSync(new URL(`${name}.chunks.txt`, FIXTURES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** Writes events as Gemini's `alt=sse` stream (CRLF framing, as Google sends), one write per event. */
export async function writeGeminiStream(
  response: ServerResponse,
  events: unknown[],
  options: { delayMs?: number } = {},
): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events) {
    if (response.destroyed) return;
    response.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
    if (options.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
  }
  response.end();
}

export interface GeminiRequest {
  method: string;
  /** e.g. `/v1beta/models/gemini-2.5-flash:generateContent` (or `tunedModels/…`), as the server resolved it */
  path: string;
  model: string | undefined;
  /** `generateContent`, `streamGenerateContent`, `batchEmbedContents`, or `list` for GET /models. */
  action: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export type GeminiHandler = (body: any, response: ServerResponse, request: GeminiRequest) => void | Promise<void>;

/** Answers as Gemini does for a wrong key (test/fixtures/gemini/error-api-key-invalid.json). */
function refuseKey(response: ServerResponse): void {
  sendJson(response, 400, geminiFixture('error-api-key-invalid'));
}

/**
 * A local Gemini Developer API (`v1beta`): generateContent, streamGenerateContent (SSE),
 * batchEmbedContents and models.list, each answering with a recorded body by default. Tests swap
 * the handlers to script answers and read `requests` to see what the gateway sent.
 */
export class GeminiMock {
  readonly server: http.Server;
  readonly url: string;
  readonly requests: GeminiRequest[] = [];
  generate: GeminiHandler = (_body, response) => sendJson(response, 200, geminiFixture('generate-text'));
  stream: GeminiHandler = (_body, response) => writeGeminiStream(response, geminiStreamFixture('stream-text'));
  /** By default one recorded vector per input, in turn. */
  embed: GeminiHandler = (body, response) => {
    const recorded = geminiFixture('embeddings-batch');
    const embeddings = (body.requests as unknown[]).map(
      (_request, index) => recorded.embeddings[index % recorded.embeddings.length],
    );
    sendJson(response, 200, { embeddings, usageMetadata: recorded.usageMetadata });
  };
  models: GeminiHandler = (_body, response) => sendJson(response, 200, geminiFixture('models'));

  private constructor(server: http.Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(): Promise<GeminiMock> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const mock = new GeminiMock(server, `http://127.0.0.1:${port}`);
    server.on('request', (request, response) => {
      mock.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent)
          sendJson(response, 500, { error: { code: 500, message: String(error), status: 'INTERNAL' } });
        else response.destroy();
      });
    });
    return mock;
  }

  /** Gateway variables that point Gemini at this mock. */
  env(): Record<string, string> {
    return { GEMINI_API_KEY: TEST_GEMINI_KEY, GEMINI_BASE_URL: this.url };
  }

  /** The requests for one action (`generateContent`, `streamGenerateContent`, `batchEmbedContents`, `list`). */
  requestsFor(action: string): GeminiRequest[] {
    return this.requests.filter((request) => request.action === action);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(incoming.url ?? '/', this.url);
    const match = /^\/v1beta\/(?:models|tunedModels)(?:\/([^:]+):(\w+))?$/.exec(url.pathname);
    const request: GeminiRequest = {
      method: incoming.method ?? '',
      path: url.pathname,
      model: match?.[1],
      action: match?.[2] ?? (match !== null && incoming.method === 'GET' ? 'list' : 'unknown'),
      query: url.searchParams,
      headers: incoming.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
    this.requests.push(request);
    if (incoming.headers['x-goog-api-key'] !== TEST_GEMINI_KEY) return refuseKey(response);
    switch (request.action) {
      case 'list':
        return this.models(request.body, response, request);
      case 'generateContent':
        return this.generate(request.body, response, request);
      case 'streamGenerateContent':
        if (url.searchParams.get('alt') !== 'sse') throw new Error('the gateway must stream with alt=sse');
        return this.stream(request.body, response, request);
      case 'batchEmbedContents':
        return this.embed(request.body, response, request);
      default:
        return sendJson(response, 404, {
          error: { code: 404, message: `No route for ${url.pathname}`, status: 'NOT_FOUND' },
        });
    }
  }
}
