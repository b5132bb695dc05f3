import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Agent } from 'undici';
import { HttpTimeoutError, httpRequest } from '../../../gateway/lib/http-request.ts';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('httpRequest', () => {
  let server: http.Server;
  let base: string;
  const dispatcher = new Agent();
  /** Requests the server saw, and whether each one's connection closed before its answer ended. */
  const seen: Array<{ url: string; body: string; cut: boolean }> = [];
  /** The server's side of /trickle: the test writes the next piece when it wants. */
  let trickle: http.ServerResponse | undefined;

  before(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const entry = { url: request.url ?? '', body: Buffer.concat(chunks).toString(), cut: false };
        seen.push(entry);
        response.on('close', () => {
          entry.cut = !response.writableFinished;
        });
        if (request.url === '/json') {
          response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'up-1' });
          response.end(JSON.stringify({ echoed: entry.body }));
        } else if (request.url === '/trickle') {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.write('data: 1\n\n');
          trickle = response;
        } else if (request.url === '/large') {
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          // 4 MB in 64 KB pieces, each byte telling its piece, written as fast as the client takes them.
          let piece = 0;
          const more = () => {
            while (piece < 64) {
              if (!response.write(Buffer.alloc(64 * 1024, piece++ % 256))) return void response.once('drain', more);
            }
            response.end();
          };
          more();
        }
        // /silent never answers.
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await dispatcher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the request and gives the status, headers and body', async () => {
    const response = await httpRequest(
      { origin: base, path: '/json' },
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"q":1}',
        dispatcher,
      },
    );
    expect(response.statusCode).to.equal(200);
    expect(response.headers['x-request-id']).to.equal('up-1');
    expect(JSON.parse(await response.body.text())).to.deep.equal({ echoed: '{"q":1}' });
  });

  it('hands a streamed body over as it arrives, without waiting for its end', async () => {
    const response = await httpRequest({ origin: base, path: '/trickle' }, { method: 'GET', headers: {}, dispatcher });
    const reader = response.body[Symbol.asyncIterator]();
    expect(String((await reader.next()).value)).to.equal('data: 1\n\n');
    trickle?.write('data: 2\n\n');
    expect(String((await reader.next()).value)).to.equal('data: 2\n\n');
    trickle?.end();
    expect((await reader.next()).done).to.equal(true);
  });

  it('a slow reader gets a large body whole and in order (the connection pauses and resumes)', async () => {
    const response = await httpRequest({ origin: base, path: '/large' }, { method: 'GET', headers: {}, dispatcher });
    const received: Buffer[] = [];
    for await (const chunk of response.body) {
      received.push(chunk);
      await new Promise(setImmediate);
    }
    const all = Buffer.concat(received);
    expect(all.length).to.equal(64 * 64 * 1024);
    for (let piece = 0; piece < 64; piece++) expect(all[piece * 64 * 1024 + 100]).to.equal(piece);
  });

  it("a signal aborted mid-body ends the read with the signal's reason and closes the upstream connection", async () => {
    const controller = new AbortController();
    const response = await httpRequest(
      { origin: base, path: '/trickle' },
      {
        method: 'GET',
        headers: {},
        dispatcher,
        signal: controller.signal,
      },
    );
    const reader = response.body[Symbol.asyncIterator]();
    await reader.next();
    const upstream = seen.at(-1);
    const closed = new Promise((resolve) => trickle?.once('close', resolve));
    controller.abort(new Error('client went away'));
    expect(await rejection(reader.next())).to.have.property('message', 'client went away');
    await closed;
    expect(upstream?.cut).to.equal(true);
  });

  it('a signal aborted before the call rejects at once, and nothing is sent', async () => {
    const before = seen.length;
    const controller = new AbortController();
    controller.abort(new Error('gone already'));
    const failure = await rejection(
      httpRequest(
        { origin: base, path: '/json' },
        { method: 'GET', headers: {}, dispatcher, signal: controller.signal },
      ),
    );
    expect(failure).to.have.property('message', 'gone already');
    expect(seen.length).to.equal(before);
  });

  it('no answer within timeoutMs → HttpTimeoutError naming the limit', async () => {
    const failure = await rejection(
      httpRequest({ origin: base, path: '/silent' }, { method: 'GET', headers: {}, dispatcher, timeoutMs: 100 }),
    );
    expect(failure).to.be.instanceOf(HttpTimeoutError);
    expect(failure).to.have.property('message', 'no answer within 100 ms');
  });

  it('a refused connection rejects with the socket error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await rejection(
      httpRequest({ origin: `http://127.0.0.1:${port}`, path: '/' }, { method: 'GET', headers: {}, dispatcher }),
    );
    expect(failure).to.have.property('code', 'ECONNREFUSED');
  });
});
