import nock from 'nock';
import { ensureRedisServer } from './redis-server.ts';

/** Nothing leaves this machine; loopback (the gateway and local mock servers) stays reachable. */
export function allowLoopbackOnly(): void {
  nock.disableNetConnect();
  nock.enableNetConnect((host: string) => /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host));
}

/** Root hooks for every test file. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    allowLoopbackOnly();
    this.timeout(0); // installing a Debian package may take minutes
    await ensureRedisServer();
  },
  afterEach(): void {
    nock.cleanAll();
    allowLoopbackOnly();
  },
};
