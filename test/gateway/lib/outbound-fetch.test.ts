import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createOutboundFetch } from '../../../gateway/lib/outbound-fetch.ts';

describe('createOutboundFetch', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  /** Called once a request has reached the server, with the answer to finish it (/stream and /slow). */
  let arrived: (finish: () => void) => void = () => {};

  before(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        if (request.url === '/empty') {
          response.writeHead(204).end();
        } else if (request.url?.startsWith('/stream')) {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.write('data: {"n":1}\r\n\r\n');
          arrived(() => response.end('data: {"n":2}\r\n\r\n'));
        } else if (request.url === '/slow') {
          arrived(() => response.end('late'));
        } else {
          response.setHeader('set-cookie', ['a=1', 'b=2']);
          response.writeHead(201, { 'content-type': 'application/json', 'x-answer': 'yes' });
          response.end(JSON.stringify({ echoed: body }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const fetch = createOutboundFetch({ httpsProxy: undefined, httpProxy: undefined, noProxy: undefined });

  it('sends the method, headers, query and string body, and answers as fetch does', async () => {
    const response = await fetch(`${base}/v1/call?alt=json`, {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json', 'x-goog-api-key': 'k' }),
      body: '{"q":1}',
    });
    expect(response.status).to.equal(201);
    expect(response.ok).to.equal(true);
    expect(response.headers.get('x-answer')).to.equal('yes');
    expect(response.headers.get('set-cookie')).to.equal('a=1, b=2');
    expect(await response.json()).to.deep.equal({ echoed: '{"q":1}' });
    const request = seen.at(-1);
    expect(request?.method).to.equal('POST');
    expect(request?.url).to.equal('/v1/call?alt=json');
    expect(request?.headers['x-goog-api-key']).to.equal('k');
  });

  it('hands a streamed body over piece by piece', async () => {
    let finish: () => void = () => {};
    arrived = (answer) => {
      finish = answer;
    };
    const response = await fetch(`${base}/stream?alt=sse`, { method: 'POST', body: '{}' });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value as Uint8Array).toString()).to.equal('data: {"n":1}\r\n\r\n');
    finish(); // the second piece goes out only now, so it cannot arrive together with the first
    let rest = '';
    for (let step = await reader.read(); step.done !== true; step = await reader.read()) {
      rest += Buffer.from(step.value).toString();
    }
    expect(rest).to.equal('data: {"n":2}\r\n\r\n');
  });

  it('answers a 204 without a body', async () => {
    const response = await fetch(`${base}/empty`);
    expect(response.status).to.equal(204);
    expect(response.body).to.equal(null);
  });

  it("rejects with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    let finish: () => void = () => {};
    arrived = (answer) => {
      finish = answer;
      controller.abort(); // the request is out, unanswered
    };
    const error = await fetch(`${base}/slow`, { signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).name).to.equal('AbortError');
    finish();
  });

  it("rejects a connection failure as fetch does: TypeError('fetch failed') with the cause", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(TypeError);
    expect((error as TypeError).message).to.equal('fetch failed');
    expect(((error as TypeError).cause as { code?: string }).code).to.equal('ECONNREFUSED');
  });

  it('takes undici fetch for bodies that are not strings', async () => {
    const response = await fetch(`${base}/blob`, { method: 'POST', body: new Blob(['from a blob']) });
    expect(await response.json()).to.deep.equal({ echoed: 'from a blob' });
  });
});
