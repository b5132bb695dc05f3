import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { httpRequest, requestTarget } from '../../../gateway/lib/http-request.ts';
import { createProxyAgent } from '../../../gateway/lib/proxy-agent.ts';
import { ForwardProxy } from '../../helpers/forward-proxy.ts';

describe('createProxyAgent', () => {
  let server: http.Server;
  let base: URL;
  let proxy: ForwardProxy;

  before(async () => {
    server = http.createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/call`);
    proxy = await ForwardProxy.start();
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await proxy.close();
  });
  afterEach(() => {
    proxy.targets.length = 0;
  });

  async function call(agent: ReturnType<typeof createProxyAgent>): Promise<string> {
    try {
      const response = await httpRequest(requestTarget(base), { method: 'GET', headers: {}, dispatcher: agent });
      return await response.body.text();
    } finally {
      await agent.destroy();
    }
  }

  it('goes straight out without proxy settings', async () => {
    expect(await call(createProxyAgent({ httpsProxy: undefined, httpProxy: undefined, noProxy: undefined }))).to.equal(
      'ok',
    );
    expect(proxy.targets).to.deep.equal([]);
  });

  it('goes through the proxy it is given', async () => {
    const agent = createProxyAgent({ httpsProxy: undefined, httpProxy: proxy.url, noProxy: undefined });
    expect(await call(agent)).to.equal('ok');
    expect(proxy.targets).to.deep.equal([base.host]);
  });

  it('goes around it for a NO_PROXY host', async () => {
    const agent = createProxyAgent({ httpsProxy: undefined, httpProxy: proxy.url, noProxy: '127.0.0.1' });
    expect(await call(agent)).to.equal('ok');
    expect(proxy.targets).to.deep.equal([]);
  });
});
