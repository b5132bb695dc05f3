import { rmSync } from 'node:fs';
import { join } from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { PortalStore } from '../../../b24-app/portal/portal-store.ts';
import type { SecretBox } from '../../../gateway/lib/secrets/secret-box.ts';
import { loadSecretKeys } from '../../../gateway/lib/secrets/secret-keys.ts';
import { tempDir } from '../gateway.ts';
import { GigaChatMock } from '../gigachat-mock.ts';
import { createTestCa, type TestCa } from '../test-ca.ts';
import { FakeOAuth, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from './fake-oauth.ts';
import { FakePortal } from './fake-portal.ts';
import { freePort, GatewayProcess } from './gateway-process.ts';
import { frameInstallRequest, postForm } from './wire.ts';

/**
 * Everything a Bitrix24 flow test needs: a throwaway CA, Bitrix24's OAuth server and portals on
 * loopback HTTPS, GigaChat, and the real gateway process (gateway + Bitrix24 app) trusting the CA
 * through NODE_EXTRA_CA_CERTS.
 */
export class B24Harness {
  readonly dir: string;
  readonly ca: TestCa;
  readonly oauth: FakeOAuth;
  readonly gigachat: GigaChatMock;
  readonly gateway: GatewayProcess;
  readonly portals: FakePortal[] = [];

  private constructor(dir: string, ca: TestCa, oauth: FakeOAuth, gigachat: GigaChatMock, gateway: GatewayProcess) {
    this.dir = dir;
    this.ca = ca;
    this.oauth = oauth;
    this.gigachat = gigachat;
    this.gateway = gateway;
  }

  static async start(env: Record<string, string> = {}): Promise<B24Harness> {
    const dir = tempDir();
    const ca = createTestCa(dir);
    const oauth = await FakeOAuth.start({ key: ca.serverKey, cert: ca.serverCert });
    const gigachat = await GigaChatMock.start();
    const port = await freePort();
    const gateway = new GatewayProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      STORE_URL: `sqlite://${join(dir, 'store.sqlite')}`,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      B24_CLIENT_ID: TEST_CLIENT_ID,
      B24_CLIENT_SECRET: TEST_CLIENT_SECRET,
      B24_OAUTH_URL: oauth.tokenUrl,
      B24_ENGINE_MODELS: 'GigaChat-2-Max,GigaChat-2',
      NODE_EXTRA_CA_CERTS: ca.caPemFile,
      LOG_LEVEL: 'debug',
      ...gigachat.env(),
      ...env,
    });
    const harness = new B24Harness(dir, ca, oauth, gigachat, gateway);
    try {
      await gateway.start();
    } catch (error) {
      await harness.close();
      throw error;
    }
    return harness;
  }

  get storePath(): string {
    return join(this.dir, 'store.sqlite');
  }

  /** A new portal on its own port (so its own host for the callback check). */
  async newPortal(): Promise<FakePortal> {
    const portal = await FakePortal.start({ key: this.ca.serverKey, cert: this.ca.serverCert }, () => this.gateway.url);
    this.portals.push(portal);
    return portal;
  }

  /** A new portal with the app installed through the frame install page. */
  async installedPortal(userId = 1): Promise<FakePortal> {
    const portal = await this.newPortal();
    const { query, body } = frameInstallRequest(portal, this.oauth.issue(portal, userId));
    const response = await postForm(`${this.gateway.url}/b24/install?${query}`, body);
    if (response.status !== 200) throw new Error(`install failed: ${response.status} ${await response.text()}`);
    return portal;
  }

  /** The completions_url of a portal's engine. */
  engineUrl(portal: FakePortal, code = 'gigagate_GigaChat-2-Max'): string {
    const engine = portal.engines.find((candidate) => candidate.code === code);
    if (engine === undefined) throw new Error(`no engine ${code} on the portal`);
    return engine.completions_url;
  }

  /** Uses the app's keyv store (namespace b24) in the SQLite file, as another process would. */
  async withStore<T>(use: (store: Keyv) => Promise<T>): Promise<T> {
    const url = this.gateway.env.STORE_URL as string;
    const adapter = url.startsWith('redis://')
      ? new KeyvRedis<unknown>(url)
      : new KeyvSqlite({ uri: `sqlite://${this.storePath}`, busyTimeout: 5000 });
    const store = new Keyv({ store: adapter, namespace: 'b24' });
    try {
      return await use(store);
    } finally {
      await store.disconnect();
    }
  }

  /** The server's secret box: GATEWAY_SECRET_KEY, or the key file it generated beside the SQLite store. */
  secrets(): SecretBox {
    const url = this.gateway.env.STORE_URL as string;
    const location = url.startsWith('redis://')
      ? { kind: 'redis' as const }
      : { kind: 'sqlite' as const, path: this.storePath };
    return loadSecretKeys(this.gateway.env.GATEWAY_SECRET_KEY, location).box;
  }

  /** The app's portal records, read and written as the app does (their secrets sealed in the store). */
  withPortals<T>(use: (portals: PortalStore) => Promise<T>): Promise<T> {
    return this.withStore((store) => use(new PortalStore(store, this.secrets())));
  }

  /** One stored value; a portal record (`portal:<member_id>`) as the app reads it, its secrets opened. */
  stored<T>(key: string): Promise<T | undefined> {
    if (key.startsWith('portal:')) {
      return this.withPortals(async (portals) => (await portals.get(key.slice('portal:'.length))) as T | undefined);
    }
    return this.rawStored<T>(key);
  }

  /** One value exactly as the store holds it. */
  rawStored<T>(key: string): Promise<T | undefined> {
    return this.withStore(async (store) => (await store.get<T>(key)) ?? undefined);
  }

  /**
   * One stored value exactly as the store holds it (the serialised string): two reads are equal only
   * if nothing wrote the key in between. Reads the SQLite adapter under keyv's `b24:` prefix.
   */
  storedSerialised(key: string): Promise<unknown> {
    return this.withStore(async (store) => (store.store as { get(key: string): Promise<unknown> }).get(`b24:${key}`));
  }

  /** The app's stored signing key (signing-key.ts), opened, to build old-formula engine URLs. */
  async signingKey(): Promise<Buffer> {
    const sealed = (await this.rawStored<string>('signing-key')) as string;
    return Buffer.from(this.secrets().open(sealed, 'b24 signing-key'), 'base64');
  }

  /** Every key in the app's namespace. */
  storedKeys(): Promise<string[]> {
    return this.withStore(async (store) => {
      const keys: string[] = [];
      for await (const [key] of (store.iterator as NonNullable<typeof store.iterator>)(undefined)) keys.push(key);
      return keys;
    });
  }

  /**
   * Opens the app page as Bitrix24 does (a form POST with the viewer's AUTH_ID) and returns the
   * page and the session its script would use.
   */
  async openAppPage(
    portal: FakePortal,
    userId = 1,
    lang = 'en',
    options: { clientId?: string } = {},
  ): Promise<{ status: number; html: string; session: string | undefined; headers: Headers }> {
    const tokens = this.oauth.issue(portal, userId, 3600, options.clientId);
    const query = new URLSearchParams({ DOMAIN: portal.domain, PROTOCOL: '1', LANG: lang, APP_SID: 'testappsid' });
    const body = new URLSearchParams({
      AUTH_ID: tokens.access_token,
      AUTH_EXPIRES: '3600',
      REFRESH_ID: tokens.refresh_token,
      member_id: portal.memberId,
      status: 'L',
      PLACEMENT: 'DEFAULT',
      PLACEMENT_OPTIONS: '{}',
    });
    const response = await postForm(`${this.gateway.url}/b24/app?${query}`, body);
    const html = await response.text();
    const data = /<script type="application\/json" id="app-data">(.*?)<\/script>/.exec(html)?.[1];
    const session = data === undefined ? undefined : (JSON.parse(data) as { session: string }).session;
    return { status: response.status, html, session, headers: response.headers };
  }

  /** Calls one of the page's own API routes with its session. */
  pageApi(session: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.gateway.url}/b24/app/api/${path}`, {
      method: body === undefined && path === 'state' ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async close(): Promise<void> {
    await this.gateway.stop();
    await Promise.all(this.portals.map((portal) => portal.close()));
    await this.oauth.close();
    await this.gigachat.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
