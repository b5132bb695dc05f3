import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gigaChatChunks, gigaChatCompletion, recordedExchange } from './cassettes.ts';

/** A fake authorization key in GigaChat Studio's format: Base64 of client_id:client_secret. */
export const TEST_CREDENTIALS = Buffer.from('test-client-id:test-client-secret').toString('base64');

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  raw: Buffer;
}

/** A file in the mock's storage, with the account that uploaded it. */
export interface StoredGigaChatFile {
  id: string;
  owner: string;
  filename: string;
  type: string;
  purpose: string;
  data: Buffer;
  createdAt: number;
}

export type ChatHandler = (body: any, response: ServerResponse, request: IncomingMessage) => void | Promise<void>;

/** The account a token was issued to: the authorization key and scope of its OAuth call. */
export interface TokenOwner {
  credentials: string;
  scope: string;
}

/** A recorded GigaChat JSON body (test/fixtures/gigachat/SOURCES.md). */
export function gigaChatFixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/gigachat/${name}.json`, import.meta.url), 'utf8')) as T;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Answers with a JSON body the way GigaChat does (compact, `application/json; charset=utf-8`). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'x-request-id': randomUUID(),
    ...headers,
  });
  response.end(JSON.stringify(body));
}

/** Writes chunks as GigaChat's event stream, one network write per event, `delayMs` apart. */
export async function writeGigaChatStream(
  response: ServerResponse,
  chunks: unknown[],
  options: { delayMs?: number; done?: boolean } = {},
): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': randomUUID() });
  for (const chunk of chunks) {
    if (response.destroyed) return;
    response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    if (options.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
  }
  if (options.done !== false) response.write('data: [DONE]\n\n');
  response.end();
}

/**
 * A chat handler whose stream (the recorded shape, gigaChatChunks) sends its first piece, then waits
 * for `release` before the rest (or for the gateway to hang up, which `onClose` hears).
 */
export function heldGigaChatStream(
  pieces: string[],
  release: Promise<void>,
  onClose: () => void = () => {},
): ChatHandler {
  return async (_body, response) => {
    response.once('close', onClose);
    const [first, ...rest] = gigaChatChunks(pieces);
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`data: ${JSON.stringify(first)}\n\n`);
    await release;
    if (response.destroyed) return;
    for (const chunk of rest) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    response.end('data: [DONE]\n\n');
  };
}

/**
 * A local GigaChat: OAuth at /api/v2/oauth (checks the Basic key, RqUID and scope) and the API at
 * /api/v1 (checks the bearer token it issued). Tests swap `chat` to script answers.
 */
export class GigaChatMock {
  readonly server: http.Server;
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  oauthCalls = 0;
  tokenLifetimeMs = 30 * 60_000;
  /** Answer `expires_at` in seconds, as older GigaChat docs show. */
  expiresInSeconds = false;
  /** Delay before the OAuth answer, to let concurrent requests pile up. */
  oauthDelayMs = 0;
  readonly issued = new Set<string>();
  /** The authorization keys OAuth accepts (another project's key is a credential of its own). */
  readonly accepted = new Set([TEST_CREDENTIALS]);
  /** Whose each issued token is. */
  readonly owners = new Map<string, TokenOwner>();
  chat: ChatHandler = (_body, response) => sendJson(response, 200, gigaChatCompletion('Hello.'));
  /** Replaces the OAuth endpoint's answer (the call is still counted). */
  oauth: ((response: ServerResponse) => void) | undefined;
  models: () => unknown = () => recordedExchange('models', '/api/v1/models').response;
  /** GET /balance: the recorded packages; 403 for a pay-as-you-go scope (GIGACHAT_API_CORP), as GigaChat answers. */
  balance: ChatHandler = (_body, response, request) => {
    if (this.ownerOf(request)?.scope === 'GIGACHAT_API_CORP') {
      return sendJson(response, 403, gigaChatFixture('error-balance-403'));
    }
    sendJson(response, 200, gigaChatFixture('balance'));
  };
  /** By default the recorded vector (test/fixtures/gigachat/embeddings.json) for every input, in order. */
  embeddings: ChatHandler = (body, response) => {
    const recorded = JSON.parse(readFileSync(new URL('../fixtures/gigachat/embeddings.json', import.meta.url), 'utf8'));
    const item = recorded.data[0];
    const data = (body.input as string[]).map((_text, index) => ({ ...item, index }));
    sendJson(response, 200, { ...recorded, model: body.model, data });
  };

  /** Replaces the answer to POST /files (the request is still recorded). */
  upload: ChatHandler | undefined;
  /** GigaChat's file storage: every account sees only its own files, as GigaChat says ("доступны только вам"). */
  readonly files = new Map<string, StoredGigaChatFile>();

  private constructor(server: http.Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(tls?: { key: string; cert: string }): Promise<GigaChatMock> {
    const server = tls === undefined ? http.createServer() : https.createServer(tls);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const mock = new GigaChatMock(server, `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`);
    server.on('request', (request, response) => {
      mock.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { status: 500, message: String(error) });
        else response.destroy();
      });
    });
    return mock;
  }

  get authUrl(): string {
    return `${this.url}/api/v2/oauth`;
  }

  get baseUrl(): string {
    return `${this.url}/api/v1`;
  }

  /** Gateway variables that point GigaChat at this mock. */
  env(): Record<string, string> {
    return { GIGACHAT_CREDENTIALS: TEST_CREDENTIALS, GIGACHAT_AUTH_URL: this.authUrl, GIGACHAT_BASE_URL: this.baseUrl };
  }

  /** Makes every token issued so far invalid, as GigaChat does when one expires early. */
  revokeTokens(): void {
    this.issued.clear();
  }

  /** The account whose token authorized a request to the API. */
  ownerOf(request: { headers: IncomingHttpHeaders }): TokenOwner | undefined {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    return token === undefined ? undefined : this.owners.get(token);
  }

  /** The requests that reached one path. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const path = new URL(request.url ?? '/', this.url).pathname;
    this.requests.push({ method: request.method ?? '', path, headers: request.headers, body, raw });

    if (path === '/api/v2/oauth') return this.#oauth(request, response, body);
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !this.issued.has(token)) {
      return sendJson(response, 401, { status: 401, message: 'Token has expired' });
    }
    if (path === '/api/v1/models' && request.method === 'GET') return sendJson(response, 200, this.models());
    if (path === '/api/v1/balance' && request.method === 'GET') return this.balance(undefined, response, request);
    if (path === '/api/v1/files' && request.method === 'POST') return this.#upload(request, response, raw);
    if (path === '/api/v1/files' && request.method === 'GET') {
      const owner = this.ownerOf(request)?.credentials;
      const data = [...this.files.values()].filter((file) => file.owner === owner).map(fileObject);
      return sendJson(response, 200, { data });
    }
    const deleted = /^\/api\/v1\/files\/([^/]+)\/delete$/.exec(path)?.[1];
    if (deleted !== undefined && request.method === 'POST') {
      const id = decodeURIComponent(deleted);
      if (this.files.get(id)?.owner !== this.ownerOf(request)?.credentials) {
        return sendJson(response, 404, { status: 404, message: 'Not found' });
      }
      this.files.delete(id);
      return sendJson(response, 200, { ...gigaChatFixture<object>('post-files-delete'), id });
    }
    if (path === '/api/v1/chat/completions' && request.method === 'POST') {
      const parsed = JSON.parse(body);
      const owner = this.ownerOf(request)?.credentials;
      for (const message of parsed.messages ?? []) {
        for (const id of message.attachments ?? []) {
          if (this.files.get(id)?.owner !== owner) {
            return sendJson(response, 400, { status: 400, message: `file ${id} not found` });
          }
        }
      }
      return this.chat(parsed, response, request);
    }
    if (path === '/api/v1/embeddings' && request.method === 'POST') {
      return this.embeddings(JSON.parse(body), response, request);
    }
    return sendJson(response, 404, { status: 404, message: 'Not found' });
  }

  /** POST /files: multipart `file` and `purpose`, parsed by undici's own multipart reader. */
  async #upload(request: IncomingMessage, response: ServerResponse, raw: Buffer): Promise<void> {
    if (this.upload !== undefined) return this.upload(undefined, response, request);
    const form = await new Response(raw, { headers: { 'content-type': String(request.headers['content-type']) } })
      .formData()
      .catch(() => undefined);
    const file = form?.get('file');
    const purpose = form?.get('purpose');
    if (!(file instanceof File) || (purpose !== 'general' && purpose !== 'assistant')) {
      return sendJson(response, 400, { status: 400, message: 'file and purpose are required' });
    }
    const stored: StoredGigaChatFile = {
      id: randomUUID(),
      owner: this.ownerOf(request)?.credentials ?? '',
      filename: file.name,
      type: file.type,
      purpose,
      data: Buffer.from(await file.arrayBuffer()),
      createdAt: Math.floor(Date.now() / 1000),
    };
    this.files.set(stored.id, stored);
    sendJson(response, 200, {
      ...gigaChatFixture<object>('post-files'),
      id: stored.id,
      bytes: stored.data.length,
      created_at: stored.createdAt,
      filename: stored.filename,
      purpose: stored.purpose,
    });
  }

  async #oauth(request: IncomingMessage, response: ServerResponse, body: string): Promise<void> {
    this.oauthCalls += 1;
    if (this.oauthDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.oauthDelayMs));
    if (this.oauth !== undefined) return this.oauth(response);
    const credentials = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (credentials === undefined || !this.accepted.has(credentials)) {
      return sendJson(response, 401, { code: 6, message: "credentials doesn't match db data" });
    }
    if (!UUID_V4.test(String(request.headers.rquid))) {
      return sendJson(response, 400, { code: 4, message: 'RqUID is not a valid uuid4' });
    }
    const scope = new URLSearchParams(body).get('scope');
    if (scope !== 'GIGACHAT_API_PERS' && scope !== 'GIGACHAT_API_B2B' && scope !== 'GIGACHAT_API_CORP') {
      return sendJson(response, 400, { code: 7, message: 'scope from db not fully includes consumed scope' });
    }
    const token = `mock-token-${this.oauthCalls}-${randomUUID()}`;
    this.issued.add(token);
    this.owners.set(token, { credentials, scope });
    const expiresAt = Date.now() + this.tokenLifetimeMs;
    sendJson(response, 200, {
      access_token: token,
      expires_at: this.expiresInSeconds ? Math.floor(expiresAt / 1000) : expiresAt,
    });
  }
}

/** A stored file as GET /files lists it (SDK `tests/data/get_files.json`). */
/** A stored file in the shape of GigaChat's recorded `GET /files` entry, with this file's values. */
function fileObject(file: StoredGigaChatFile) {
  const [recorded] = gigaChatFixture<{ data: object[] }>('get-files').data;
  return {
    ...recorded,
    id: file.id,
    bytes: file.data.length,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
  };
}
