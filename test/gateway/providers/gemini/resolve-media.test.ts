import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BadRequestError } from '../../../../gateway/openai/errors.ts';
import type { OpenAIMessage } from '../../../../gateway/openai/types.ts';
import { type MediaFetchOptions, resolveGeminiMedia } from '../../../../gateway/providers/gemini/resolve-media.ts';
import { createTestCa } from '../../../helpers/test-ca.ts';

const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PIXEL_URL = `data:image/png;base64,${PIXEL}`;

const image = (url: string) => ({ type: 'image_url', image_url: { url } });
const user = (...parts: unknown[]) => ({ role: 'user', content: parts });

describe('resolveGeminiMedia', () => {
  let dir: string;
  let server: https.Server;
  let origin: string;
  let options: MediaFetchOptions;
  let requests: string[];
  let handler: (request: IncomingMessage, response: ServerResponse) => void;

  const resolve = (messages: unknown[], signal = new AbortController().signal) =>
    resolveGeminiMedia(messages as OpenAIMessage[], options, { signal });

  async function rejection(messages: unknown[]): Promise<BadRequestError> {
    try {
      await resolve(messages);
    } catch (error) {
      expect(error).to.be.instanceOf(BadRequestError);
      expect((error as BadRequestError).code).to.equal('invalid_image_url');
      return error as BadRequestError;
    }
    throw new Error('expected a 400');
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resolve-media-'));
    const ca = createTestCa(dir);
    server = https.createServer({ key: ca.serverKey, cert: ca.serverCert }, (request, response) => {
      requests.push(request.url ?? '');
      handler(request, response);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    options = { maxBytes: 1024, timeoutMs: 2000, allowPrivateAddresses: true, ca: readFileSync(ca.caPemFile, 'utf8') };
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests = [];
    handler = (request, response) => {
      if (request.url?.endsWith('.txt')) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('hello');
        return;
      }
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      response.end(Buffer.from(request.url ?? ''));
    };
  });

  it('more than 16 URLs to download → 400 naming the 17th, before downloading any', async () => {
    const parts = Array.from({ length: 17 }, (_unused, index) => ({
      type: 'image_url',
      image_url: { url: `${origin}/${index}.jpg` },
    }));
    const error = await rejection([{ role: 'user', content: parts }]);
    expect(error.param).to.equal('messages[0].content[16].image_url.url');
    expect(requests).to.deep.equal([]);
  });

  it('decodes data: URLs without any download', async () => {
    const media = await resolve([user(image(PIXEL_URL))]);
    expect([...media]).to.deep.equal([[PIXEL_URL, { mimeType: 'image/png', data: PIXEL }]]);
    expect(requests).to.deep.equal([]);
  });

  it('downloads https URLs, each once, as base64 inline data', async () => {
    const first = `${origin}/a.jpg`;
    const second = `${origin}/b.jpg`;
    const media = await resolve([
      user({ type: 'text', text: 'compare' }, image(first), image(second)),
      { role: 'assistant', content: 'ok' },
      user(image(first)),
    ]);
    expect(media.get(first)).to.deep.equal({ mimeType: 'image/jpeg', data: Buffer.from('/a.jpg').toString('base64') });
    expect(media.get(second)).to.deep.equal({ mimeType: 'image/jpeg', data: Buffer.from('/b.jpg').toString('base64') });
    expect(requests.sort()).to.deep.equal(['/a.jpg', '/b.jpg']);
  });

  it('looks only at user messages with content parts', async () => {
    const media = await resolve([
      { role: 'system', content: 'x' },
      { role: 'user', content: `see ${origin}/a.jpg` },
      { role: 'assistant', content: 'y' },
    ]);
    expect(media.size).to.equal(0);
    expect(requests).to.deep.equal([]);
  });

  for (const url of ['http://example.com/a.png', 'ftp://example.com/a.png', '/etc/passwd', 'file:///etc/passwd']) {
    it(`${url} → 400 naming the URL's place`, async () => {
      const error = await rejection([
        user({ type: 'text', text: 'x' }),
        { role: 'assistant', content: 'y' },
        user(image(url)),
      ]);
      expect(error.param).to.equal('messages[2].content[0].image_url.url');
      expect(error.message).to.contain('https://');
    });
  }

  it('a URL used twice that cannot be downloaded → 400 naming its first place', async () => {
    const url = `${origin}/notes.txt`;
    const error = await rejection([user(image(url)), { role: 'assistant', content: 'y' }, user(image(url))]);
    expect(error.param).to.equal('messages[0].content[0].image_url.url');
    expect(requests).to.deep.equal(['/notes.txt']);
  });

  it('a data: URL of a type Gemini does not take inline → 400 listing the types', async () => {
    const error = await rejection([user(image('data:image/gif;base64,R0lGODlh'))]);
    expect(error.param).to.equal('messages[0].content[0].image_url.url');
    expect(error.message).to.contain('image/gif').and.contain('image/png');
  });

  it('a data: URL that is not base64 → 400', async () => {
    const error = await rejection([user(image('data:image/png,%89PNG'))]);
    expect(error.message).to.contain('not base64');
  });

  it('an image the server will not give → 400 saying why, naming its place', async () => {
    const error = await rejection([user(image(`${origin}/ok.jpg`), image(`${origin}/notes.txt`))]);
    expect(error.param).to.equal('messages[0].content[1].image_url.url');
    expect(error.message).to.contain('cannot be used').and.contain('text/plain');
  });

  it('a private address → 400 (with the production setting)', async () => {
    const saved = options;
    options = { maxBytes: 1024, timeoutMs: 2000 };
    try {
      const error = await rejection([user(image('https://169.254.169.254/latest/meta-data'))]);
      expect(error.message).to.contain('private or local address');
    } finally {
      options = saved;
    }
  });

  it('an https URL that does not parse → 400', async () => {
    const error = await rejection([user(image('https://'))]);
    expect(error.message).to.contain('not a valid URL');
  });

  it("the client's abort is passed through, not turned into a 400", async () => {
    const controller = new AbortController();
    handler = () => controller.abort(); // the download is out, unanswered
    let caught: unknown;
    try {
      await resolve([user(image(`${origin}/slow.jpg`))], controller.signal);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.not.be.instanceOf(BadRequestError);
    expect((caught as Error).name).to.equal('AbortError');
  });
});
