import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { TEST_CLIENT_ID } from './fake-oauth.ts';
import { fakeParentPage } from './fake-parent-page.ts';
import { closeServer, parseBody, sendJson, startHttpsServer } from './https-server.ts';

/** An `ai.engine.list` item (https://apidocs.bitrix24.com/api-reference/ai/ai-engine-list.html). */
export interface PortalEngine {
  id: number;
  app_code: string | null;
  name: string;
  code: string;
  category: string;
  completions_url: string;
  settings: Record<string, unknown>;
  date_create: number;
}

export interface RestCall {
  method: string;
  params: Record<string, any>;
  via: 'oauth' | 'webhook';
  /** The user whose token or webhook made the call. */
  userId: number;
}

export interface ReceivedCallback {
  kind: 'success' | 'error';
  hash: string;
  contentType: string;
  body: any;
}

type RestAnswer = [number, unknown];

const restError = (status: number, error: string, description: string): RestAnswer => [
  status,
  { error, error_description: description },
];

/**
 * One Bitrix24 cloud portal on loopback HTTPS: REST (`/rest/<method>` with OAuth tokens,
 * `/rest/<user>/<secret>/<method>` for incoming webhooks), the `ai` module's engine registry with
 * its validation order and GET ping, the callback controller, and the CoPilot side of an engine
 * call (`askEngine`). Wire shapes: see test/fixtures/bitrix24/SOURCES.md.
 */
export class FakePortal {
  readonly server: Server;
  readonly origin: string;
  /** `127.0.0.1:<port>`: what Bitrix24 calls the portal's DOMAIN. */
  readonly domain: string;
  readonly memberId = randomBytes(16).toString('hex');
  /** The app's application_token on this portal; an app update issues a new one (on-app-update.md). */
  applicationToken = `test-app-token-${randomBytes(8).toString('hex')}`;
  /** The app's version, as app.info reports it. */
  appVersion = 1;
  readonly accessTokens = new Map<string, { userId: number; expiresAt: number; clientId: string }>();
  readonly admins = new Set<number>([1]);
  readonly webhooks = new Map<string, { userId: number; scopes: readonly string[] }>();
  /**
   * `app.info` CODE (and engines' `app_code`) per client_id. A local app's code is its client_id
   * (the default); an app-directory app's is its Market code, e.g. `vendor.app`.
   */
  readonly appCodes = new Map<string, string>();
  /** Apps deleted from the portal: their tokens are revoked and the OAuth server refuses to refresh them. */
  readonly removedApps = new Set<string>();
  /** REST methods at which the caller's access token expires just before the call (once each). */
  readonly expireTokenOn = new Set<string>();
  readonly engines: PortalEngine[] = [];
  readonly events: Array<{ event: string; handler: string }> = [];
  readonly restCalls: RestCall[] = [];
  readonly callbacks: ReceivedCallback[] = [];
  /** Every request the portal received: method, path and query. */
  readonly requests: string[] = [];
  /** Open CoPilot jobs by queue hash. */
  readonly queue = new Map<string, { done: boolean }>();
  /** Answers the next callbacks with 503 while above zero. */
  failCallbacks = 0;
  /** Engine codes ai.engine.list leaves out, as when another request registers them in between. */
  readonly hiddenFromList = new Set<string>();
  #nextEngineId = 1;

  private constructor(server: Server, origin: string) {
    this.server = server;
    this.origin = origin;
    this.domain = new URL(origin).host;
  }

  static async start(tls: { key: string; cert: string }, appUrl?: () => string): Promise<FakePortal> {
    let portal: FakePortal | undefined;
    const { server, origin } = await startHttpsServer(tls, (request, body, response) =>
      (portal as FakePortal).handle(request, body, response, appUrl),
    );
    portal = new FakePortal(server, origin);
    return portal;
  }

  /** An incoming webhook URL of a user, by default an administrator's with `ai_admin` (the secret is a throwaway). */
  createWebhook(userId = 1, scopes: readonly string[] = ['ai_admin']): string {
    const secret = `testhook${randomBytes(6).toString('hex')}`;
    this.webhooks.set(`${userId}/${secret}`, { userId, scopes });
    return `${this.origin}/rest/${userId}/${secret}/`;
  }

  /** An engine with `code` that an incoming webhook registered (no app_code), as `ai.engine.list` shows it. */
  addWebhookEngine(code: string): void {
    this.engines.push({
      id: this.#nextEngineId++,
      app_code: null,
      name: `${code} registered by a webhook`,
      code,
      category: 'text',
      completions_url: 'https://example.invalid/old',
      settings: {},
      date_create: 0,
    });
  }

  /** The `app.info` CODE of an app (a local app's is its client_id). */
  codeOf(clientId: string): string {
    return this.appCodes.get(clientId) ?? clientId;
  }

  /**
   * An administrator deletes the app (settings/app-uninstallation.md): its event handlers and, through
   * the `ai` module, its engines go; its tokens stop working and can no longer be refreshed.
   */
  removeApp(clientId = TEST_CLIENT_ID): void {
    this.removedApps.add(clientId);
    const code = this.codeOf(clientId);
    this.engines.splice(0, this.engines.length, ...this.engines.filter((engine) => engine.app_code !== code));
    this.events.length = 0;
    for (const [token, owner] of this.accessTokens) if (owner.clientId === clientId) this.accessTokens.delete(token);
  }

  /**
   * A new version of the app is installed: Bitrix24 drops its event handlers (they
   * must be bound again by the installer of each version) and issues a new application_token.
   */
  updateApp(): void {
    this.appVersion += 1;
    this.events.length = 0;
    this.applicationToken = `test-app-token-${randomBytes(8).toString('hex')}`;
  }

  /** The REST methods called, in order. */
  calls(method?: string): RestCall[] {
    return this.restCalls.filter((call) => method === undefined || call.method === method);
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  /**
   * What the `ai` module does for a CoPilot request (Engine\ThirdParty::completions): creates the
   * queue job, POSTs JSON to completions_url with a 5 s timeout and reads the answer.
   */
  async askEngine(
    completionsUrl: string,
    fields: Record<string, unknown> = {},
  ): Promise<{ status: number; body: string; hash: string }> {
    const hash = randomBytes(16).toString('hex');
    this.queue.set(hash, { done: false });
    const ajax = `${this.origin}/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty`;
    const body = {
      prompt: 'Напиши приветствие новому сотруднику',
      payload_raw: 'Напиши приветствие новому сотруднику',
      payload_provider: 'text',
      payload_role: null,
      payload_markers: { language: 'ru' },
      context: [],
      max_tokens: 1024,
      temperature: 0.7,
      auth: null,
      category: 'text',
      ttl: 14400,
      callbackUrl: `${ajax}.callbackSuccess&hash=${hash}`,
      errorCallbackUrl: `${ajax}.callbackError&hash=${hash}`,
      ...fields,
    };
    const response = await fetch(completionsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: await response.text(), hash };
  }

  /** Resolves once a callback for `hash` arrived. */
  async waitForCallback(hash: string, timeoutMs = 8000): Promise<ReceivedCallback> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.callbacks.find((callback) => callback.hash === hash);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no callback for ${hash} within ${timeoutMs} ms`);
  }

  private async handle(
    request: IncomingMessage,
    body: string,
    response: ServerResponse,
    appUrl?: () => string,
  ): Promise<void> {
    const url = new URL(request.url ?? '/', this.origin);
    this.requests.push(`${request.method} ${url.pathname}${url.search}`);
    if (url.pathname === '/bitrix/services/main/ajax.php') return this.callback(request, url, body, response);
    if (url.pathname === '/fake-parent' && appUrl !== undefined) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(fakeParentPage(this, appUrl(), url.searchParams));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204);
      response.end();
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'rest') return sendJson(response, 404, { error: 'NOT_FOUND' });
    const params = { ...Object.fromEntries(url.searchParams), ...parseBody(request, body) };
    let answer: RestAnswer;
    if (parts.length === 2) {
      answer = await this.restWithToken(parts[1] as string, params);
    } else if (parts.length === 4) {
      const webhook = this.webhooks.get(`${parts[1]}/${parts[2]}`);
      answer =
        webhook === undefined
          ? restError(401, 'INVALID_CREDENTIALS', 'Invalid request credentials')
          : await this.rest(parts[3] as string, params, {
              via: 'webhook',
              userId: webhook.userId,
              appCode: null,
              scopes: webhook.scopes,
            });
    } else {
      answer = restError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
    }
    const [status, payload] = answer;
    sendJson(response, status, status === 200 ? { result: payload, time: { start: Date.now() / 1000 } } : payload);
  }

  private async restWithToken(method: string, params: Record<string, any>): Promise<RestAnswer> {
    const token = this.accessTokens.get(String(params.auth ?? ''));
    if (token === undefined) return restError(401, 'invalid_token', 'The access token provided is invalid.');
    if (this.expireTokenOn.delete(method)) token.expiresAt = Date.now() - 1000;
    if (token.expiresAt <= Date.now()) {
      return restError(401, 'expired_token', 'The access token provided has expired.');
    }
    return this.rest(method, params, {
      via: 'oauth',
      userId: token.userId,
      appCode: this.codeOf(token.clientId),
      scopes: ['ai_admin'],
    });
  }

  private async rest(
    method: string,
    params: Record<string, any>,
    caller: { via: 'oauth' | 'webhook'; userId: number; appCode: string | null; scopes: readonly string[] },
  ): Promise<RestAnswer> {
    const { auth: _auth, bx24_request_id: _id, bx24_sdk_ver: _ver, bx24_sdk_type: _type, ...clean } = params;
    this.restCalls.push({ method, params: clean, via: caller.via, userId: caller.userId });
    const admin = this.admins.has(caller.userId);
    if (method.startsWith('ai.') && !caller.scopes.includes('ai_admin')) {
      return restError(
        403,
        'insufficient_scope',
        'The request requires higher privileges than provided by the webhook token',
      );
    }
    switch (method) {
      case 'profile':
        return [200, { ID: String(caller.userId), ADMIN: admin, NAME: 'Test', LAST_NAME: 'User' }];
      case 'user.admin':
        return [200, admin];
      case 'app.info':
        if (caller.appCode === null) {
          return restError(400, 'ACCESS_DENIED', 'Access denied! Application context required');
        }
        return [200, this.appInfo(caller.appCode)];
      case 'event.get':
      case 'event.bind':
      case 'event.unbind':
        if (caller.via === 'webhook') return restError(400, 'WRONG_AUTH_TYPE', 'Current authorization type is denied');
        return this.eventMethod(method, clean);
      case 'ai.engine.list':
        if (!admin) return restError(403, 'ACCESS_DENIED', 'Access denied!');
        return [
          200,
          this.engines.filter(
            (engine) =>
              (caller.appCode === null || engine.app_code === caller.appCode) && !this.hiddenFromList.has(engine.code),
          ),
        ];
      case 'ai.engine.register':
        if (!admin) return restError(403, 'ACCESS_DENIED', 'Access denied!');
        return this.register(clean, caller.appCode);
      case 'ai.engine.unregister': {
        if (!admin) return restError(403, 'ACCESS_DENIED', 'Access denied!');
        const index = this.engines.findIndex(
          (engine) => engine.code === clean.code && engine.app_code === caller.appCode,
        );
        if (index === -1) return [200, false];
        this.engines.splice(index, 1);
        return [200, true];
      }
      default:
        return restError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
    }
  }

  /** `app.info`'s object (b24restdocs api-reference/common/system/app-info.md). */
  private appInfo(code: string): Record<string, unknown> {
    return {
      ID: 5,
      CODE: code,
      VERSION: this.appVersion,
      STATUS: code.startsWith('local.') ? 'L' : 'F',
      INSTALLED: true,
      PAYMENT_EXPIRED: 'N',
      DAYS: null,
      LANGUAGE_ID: 'ru',
      LICENSE: 'ru_pro100',
      LICENSE_TYPE: 'pro100',
      LICENSE_FAMILY: 'pro',
    };
  }

  private eventMethod(method: string, params: Record<string, any>): RestAnswer {
    if (method === 'event.get') return [200, this.events.map((event) => ({ ...event, auth_type: '0', offline: 0 }))];
    const event = String(params.event ?? '').toUpperCase();
    const handler = String(params.handler ?? '');
    const index = this.events.findIndex((entry) => entry.event === event && entry.handler === handler);
    if (method === 'event.bind') {
      if (index !== -1) return restError(400, 'ERROR_CORE', 'Handler already binded');
      this.events.push({ event, handler });
      return [200, true];
    }
    if (index === -1) return restError(400, 'ERROR_CORE', 'Handler not found');
    this.events.splice(index, 1);
    return [200, { count: 1 }];
  }

  /** ai.engine.register's checks in the `ai` module's order (https://apidocs.bitrix24.com/api-reference/ai/ai-engine-register.html), then the GET ping. */
  private async register(params: Record<string, any>, appCode: string | null): Promise<RestAnswer> {
    const lower = Object.fromEntries(Object.entries(params).map(([key, value]) => [key.toLowerCase(), value]));
    for (const field of ['name', 'code', 'category', 'completions_url']) {
      if (typeof lower[field] !== 'string' || lower[field] === '') {
        return restError(400, `ENGINE_REGISTER_ERROR_${field.toUpperCase()}`, `Field ${field} is required`);
      }
    }
    const code = String(lower.code).trim();
    if (!/^[A-Za-z0-9-_]+$/.test(code)) return restError(400, 'ENGINE_REGISTER_ERROR_CODE_FORMAT', 'Bad code');
    if (!['text', 'image', 'audio', 'call', 'vision', 'classify'].includes(lower.category)) {
      return restError(400, 'ENGINE_REGISTER_ERROR_CATEGORY_FORMAT', 'Bad category');
    }
    if (this.engines.some((engine) => engine.code === code && engine.category === lower.category)) {
      return restError(400, 'ENGINE_REGISTER_ERROR_CODE_UNIQUE', 'Engine with this code already exists');
    }
    const ping = await fetch(lower.completions_url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (ping?.status !== 200) {
      return restError(400, 'ENGINE_REGISTER_ERROR_COMPLETIONS_URL_FAIL', 'completions_url did not answer 200');
    }
    if (lower.settings !== undefined && (typeof lower.settings !== 'object' || Array.isArray(lower.settings))) {
      return restError(400, 'ENGINE_REGISTER_ERROR_SETTINGS_FORMAT', 'Bad settings');
    }
    const settings = Object.fromEntries(
      Object.entries(lower.settings ?? {}).map(([key, value]) => [key.toLowerCase(), String(value)]),
    );
    const id = this.#nextEngineId++;
    this.engines.push({
      id,
      app_code: appCode,
      name: lower.name,
      code,
      category: lower.category,
      completions_url: lower.completions_url,
      settings,
      date_create: Math.floor(Date.now() / 1000),
    });
    return [200, id];
  }

  private callback(request: IncomingMessage, url: URL, body: string, response: ServerResponse): void {
    const action = url.searchParams.get('action') ?? '';
    const hash = url.searchParams.get('hash') ?? '';
    const kind = action.endsWith('.callbackSuccess')
      ? 'success'
      : action.endsWith('.callbackError')
        ? 'error'
        : undefined;
    if (kind === undefined) {
      sendJson(response, 404, { status: 'error', errors: [{ message: 'Unknown action' }] });
      return;
    }
    if (this.failCallbacks > 0) {
      this.failCallbacks -= 1;
      sendJson(response, 503, { status: 'error', errors: [{ message: 'Service Unavailable' }] });
      return;
    }
    const contentType = String(request.headers['content-type'] ?? '');
    let parsed: unknown = body;
    try {
      parsed = JSON.parse(body);
    } catch {
      // kept as text: the test asserts JSON
    }
    this.callbacks.push({ kind, hash, contentType, body: parsed });
    const job = this.queue.get(hash);
    const known = job !== undefined && !job.done;
    if (known) job.done = true;
    sendJson(response, 200, { status: 'success', data: known, errors: [] });
  }
}
