import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { BodyError, field, formReader, jsonReader, readFrameForm } from '../../../b24-app/http/request-body.ts';

/** A Koa server that answers what the reader made of the body: `{body}` or `{status, message}`. */
async function startReader(read: (ctx: Koa.Context) => Promise<unknown>): Promise<{ url: string; server: Server }> {
  const app = new Koa();
  app.use(async (ctx) => {
    try {
      ctx.body = { body: await read(ctx) };
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      ctx.body = { status: error.status, message: error.message };
    }
  });
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('Bitrix24 request bodies (request-body.ts, koa-body and qs)', () => {
  const servers: Server[] = [];
  const reader = async (read: (ctx: Koa.Context) => Promise<unknown>) => {
    const started = await startReader(read);
    servers.push(started.server);
    return started.url;
  };
  const post = async (url: string, body: string, headers: Record<string, string> = FORM) =>
    (await (await fetch(url, { method: 'POST', headers, body })).json()) as {
      body?: any;
      status?: number;
      message?: string;
    };
  after(() => {
    for (const server of servers) server.close();
  });

  it('parses PHP bracket nesting as Bitrix24 posts events', async () => {
    const url = await reader(formReader(1024));
    const { body: form } = await post(
      url,
      'event=ONAPPUNINSTALL&data%5BCLEAN%5D=1&auth%5Bmember_id%5D=m1&auth%5Bapplication_token%5D=t&list%5B%5D=a&list%5B%5D=b',
    );
    expect(form).to.deep.equal({
      event: 'ONAPPUNINSTALL',
      data: { CLEAN: '1' },
      auth: { member_id: 'm1', application_token: 't' },
      list: ['a', 'b'],
    });
    expect(field(form, 'auth', 'member_id')).to.equal('m1');
    expect(field(form, 'auth', 'missing')).to.equal(undefined);
    expect(field(form, 'event', 'x')).to.equal(undefined);
  });

  it('keeps a repeated key’s last value, dots as text, and nesting five levels deep', async () => {
    const url = await reader(formReader(1024));
    const { body: form } = await post(url, 'event=A&event=B&a.b=1&d[a][b][c][d][e]=deep&x[0]=i');
    expect(form.event).to.equal('B');
    expect(form['a.b']).to.equal('1');
    expect(field(form, 'd', 'a', 'b', 'c', 'd', 'e')).to.equal('deep');
    expect(form.x).to.deep.equal(['i']);
    expect((await post(url, 'auth%5Bmember_id%5D=m', { 'content-type': 'text/plain' })).body).to.deep.equal({
      auth: { member_id: 'm' },
    });
  });

  it('ignores keys that would reach an object prototype', async () => {
    const url = await reader(formReader(1024));
    const { body: form } = await post(
      url,
      '__proto__%5Bpolluted%5D=1&auth%5Bconstructor%5D%5Bprototype%5D=1&toString=1&constructor=2&ok=1',
    );
    expect(form).to.deep.equal({ ok: '1' });
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(field({ ok: '1' }, 'toString')).to.equal(undefined);
    expect(field({ auth: { ok: '1' } }, 'auth', 'constructor')).to.equal(undefined);
  });

  it('refuses a form over the limit with a 413, by Content-Length or as it streams', async () => {
    const url = await reader(formReader(64));
    expect(await post(url, `a=${'x'.repeat(100)}`)).to.deep.equal({
      status: 413,
      message: 'the request body is larger than 64 bytes',
    });
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`a=${'x'.repeat(100)}`));
        controller.close();
      },
    });
    const answer = await fetch(url, { method: 'POST', headers: FORM, body: chunked, duplex: 'half' } as RequestInit);
    expect(await answer.json()).to.deep.equal({ status: 413, message: 'the request body is larger than 64 bytes' });
  });

  it('a frame form takes the query beneath the body', async () => {
    const url = await reader(readFrameForm);
    const { body: form } = await post(`${url}/?DOMAIN=q.example&LANG=de&toString=q`, 'LANG=ru&member_id=m');
    expect(form).to.deep.equal({ LANG: 'ru', member_id: 'm', DOMAIN: 'q.example', toString: 'q' });
  });

  it('reads JSON whatever content type it declares; text that is not JSON is a 400', async () => {
    const url = await reader(jsonReader(1024));
    expect((await post(url, '{"a":[1,{"b":null}]}', { 'content-type': 'application/json' })).body).to.deep.equal({
      a: [1, { b: null }],
    });
    expect((await post(url, '"text"', { 'content-type': 'text/plain;charset=UTF-8' })).body).to.equal('text');
    expect(await post(url, 'prompt=x', { 'content-type': 'application/json' })).to.deep.equal({
      status: 400,
      message: 'the body is not valid JSON',
    });
    expect(await post(url, `{"a":"${'x'.repeat(2000)}"}`, { 'content-type': 'application/json' })).to.deep.equal({
      status: 413,
      message: 'the request body is larger than 1024 bytes',
    });
  });
});
