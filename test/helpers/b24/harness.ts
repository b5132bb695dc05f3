import { rmSync } from 'node:fs';
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
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

  /** Reads one value of the app's keyv store (namespace b24) from the SQLite file, as another process would. */
  async stored<T>(key: string): Promise<T | undefined> {
    const store = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${this.storePath}` }), namespace: 'b24' });
    try {
      return (await store.get<T>(key)) ?? undefined;
    } finally {
      await store.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.gateway.stop();
    await Promise.all(this.portals.map((portal) => portal.close()));
    await this.oauth.close();
    await this.gigachat.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
