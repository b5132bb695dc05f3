import nock from 'nock';

/** Root hooks: nothing leaves this machine; loopback (the gateway and local mocks) stays reachable. */
export const mochaHooks = {
  beforeAll(): void {
    nock.disableNetConnect();
    nock.enableNetConnect((host: string) => /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host));
  },
  afterEach(): void {
    nock.cleanAll();
  },
};
