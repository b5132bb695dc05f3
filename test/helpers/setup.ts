import nock from 'nock';

/** Nothing leaves this machine; loopback (the gateway and local mock servers) stays reachable. */
export function allowLoopbackOnly(): void {
  nock.disableNetConnect();
  nock.enableNetConnect((host: string) => /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host));
}

/** Root hooks for every test file. */
export const mochaHooks = {
  beforeAll(): void {
    allowLoopbackOnly();
  },
  afterEach(): void {
    nock.cleanAll();
    allowLoopbackOnly();
  },
};
