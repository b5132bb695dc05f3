import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  fetchPublicImage,
  ImageFetchError,
  type ImageFetchOptions,
  isPrivateAddress,
} from '../../../gateway/lib/fetch-public-image.ts';
import { IMAGE_TYPES } from '../../../gateway/providers/gemini/resolve-media.ts';
import { createTestCa, type TestCa } from '../../helpers/test-ca.ts';

/** A 1×1 PNG. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

describe('isPrivateAddress', () => {
  for (const address of [
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '192.0.0.8',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::7f00:1',
    'localhost',
    'not an address',
    '',
  ]) {
    it(`${JSON.stringify(address)} is private`, () => {
      expect(isPrivateAddress(address)).to.equal(true);
    });
  }

  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
    it(`${address} is public`, () => {
      expect(isPrivateAddress(address)).to.equal(false);
    });
  }
});

describe('fetchPublicImage', () => {
  let dir: string;
  let ca: TestCa;
  let caPem: string;
  let server: https.Server;
  let origin: string;
  let port: number;
  let handler: Handler;

  /** Options that reach the local test server: private addresses allowed, the test CA trusted. */
  const local = (overrides: Partial<ImageFetchOptions> = {}): ImageFetchOptions => ({
    types: IMAGE_TYPES,
    maxBytes: 1024,
    timeoutMs: 2000,
    allowPrivateAddresses: true,
    ca: caPem,
    ...overrides,
  });

  async function failure(url: string, options: ImageFetchOptions): Promise<Error> {
    try {
      await fetchPublicImage(new URL(url), options);
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected the download to fail');
  }

  async function refusal(url: string, options: ImageFetchOptions): Promise<ImageFetchError> {
    const error = await failure(url, options);
    expect(error).to.be.instanceOf(ImageFetchError);
    return error as ImageFetchError;
  }

  const servePixel: Handler = (_request, response) => {
    response.writeHead(200, { 'content-type': 'image/png; charset=binary', 'content-length': PIXEL.length });
    response.end(PIXEL);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fetch-image-'));
    ca = createTestCa(dir);
    caPem = readFileSync(ca.caPemFile, 'utf8');
    server = https.createServer({ key: ca.serverKey, cert: ca.serverCert }, (request, response) =>
      handler(request, response),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    origin = `https://127.0.0.1:${port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    handler = servePixel;
  });

  it('downloads an image over https with the test CA trusted', async () => {
    let seen: IncomingMessage | undefined;
    handler = (request, response) => {
      seen = request;
      servePixel(request, response);
    };
    const image = await fetchPublicImage(new URL(`${origin}/pixel.png`), local());
    expect(image.mimeType).to.equal('image/png');
    expect(image.data.equals(PIXEL)).to.equal(true);
    expect(seen?.url).to.equal('/pixel.png');
    expect(seen?.headers.accept).to.contain('image/png');
  });

  it('keeps certificate checks on: without the CA the download fails', async () => {
    const error = await refusal(`${origin}/pixel.png`, local({ ca: undefined }));
    expect(error.message).to.match(
      /could not be downloaded \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|DEPTH_ZERO)/,
    );
  });

  describe('refuses private and local addresses (before connecting)', () => {
    // The URL parser turns 2130706433, 0x7f.1 and 127.1 into 127.0.0.1 before the check sees them.
    for (const host of [
      '127.0.0.1',
      '2130706433',
      '0x7f.1',
      '127.1',
      '10.0.0.1',
      '169.254.169.254',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[fe80::1]',
      '0.0.0.0',
    ]) {
      it(host, async () => {
        let requests = 0;
        handler = (request, response) => {
          requests++;
          servePixel(request, response);
        };
        const error = await refusal(
          `https://${host}:${port}/latest/meta-data`,
          local({ allowPrivateAddresses: false }),
        );
        expect(error.message).to.equal('the image URL points to a private or local address');
        expect(requests).to.equal(0);
      });
    }

    it('a name that resolves to loopback (localhost), checked at connect time', async () => {
      let requests = 0;
      handler = (request, response) => {
        requests++;
        servePixel(request, response);
      };
      const error = await refusal(`https://localhost:${port}/pixel.png`, local({ allowPrivateAddresses: false }));
      expect(error.message).to.equal('localhost resolves to a private or local address');
      expect(requests).to.equal(0);
    });

    it('while the same server is reachable when private addresses are allowed (the refusal is not a network error)', async () => {
      const image = await fetchPublicImage(new URL(`https://localhost:${port}/pixel.png`), local());
      expect(image.data.equals(PIXEL)).to.equal(true);
    });
  });

  it('refuses http://', async () => {
    const error = await refusal(`http://127.0.0.1:${port}/pixel.png`, local());
    expect(error.message).to.equal('only https image URLs can be fetched');
  });

  describe('content type', () => {
    for (const type of ['text/html; charset=utf-8', 'image/svg+xml', 'image/gif', 'application/octet-stream']) {
      it(`refuses ${type}`, async () => {
        handler = (_request, response) => {
          response.writeHead(200, { 'content-type': type });
          response.end('<svg/>');
        };
        const error = await refusal(`${origin}/x`, local());
        expect(error.message).to.contain(`"${type.split(';')[0]}"`);
      });
    }

    it('refuses an answer without a content type', async () => {
      handler = (_request, response) => {
        response.removeHeader('content-type');
        response.writeHead(200);
        response.end(PIXEL);
      };
      expect((await refusal(`${origin}/x`, local())).message).to.contain('no content type');
    });

    for (const type of ['image/jpeg', 'IMAGE/WEBP', 'image/heic', 'image/heif']) {
      it(`accepts ${type}`, async () => {
        handler = (_request, response) => {
          response.writeHead(200, { 'content-type': type });
          response.end(PIXEL);
        };
        expect((await fetchPublicImage(new URL(`${origin}/x`), local())).mimeType).to.equal(type.toLowerCase());
      });
    }
  });

  it('refuses an answer that is not 200', async () => {
    handler = (_request, response) => {
      response.writeHead(404, { 'content-type': 'image/png' });
      response.end();
    };
    expect((await refusal(`${origin}/missing.png`, local())).message).to.equal('the image URL answered HTTP 404');
  });

  describe('size cap', () => {
    it('refuses by content-length before reading the body', async () => {
      handler = (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': 5000 });
        response.write(Buffer.alloc(10));
        // The rest never comes: only the declared length can have caused the refusal.
      };
      const error = await refusal(`${origin}/big.png`, local({ maxBytes: 4096 }));
      expect(error.message).to.equal('the image is larger than 4096 bytes');
    });

    it('refuses by the bytes streamed when there is no content-length', async () => {
      let sent = 0;
      handler = (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' });
        const timer = setInterval(() => {
          if (response.destroyed || sent > 1_000_000) {
            clearInterval(timer);
            response.end();
            return;
          }
          sent += 1024;
          response.write(Buffer.alloc(1024));
        }, 1);
      };
      const error = await refusal(`${origin}/stream.png`, local({ maxBytes: 4096 }));
      expect(error.message).to.equal('the image is larger than 4096 bytes');
      expect(sent).to.be.below(1_000_000);
    });

    it('accepts an image of exactly maxBytes', async () => {
      const image = await fetchPublicImage(new URL(`${origin}/pixel.png`), local({ maxBytes: PIXEL.length }));
      expect(image.data.length).to.equal(PIXEL.length);
    });
  });

  describe('redirects', () => {
    it('follows a relative redirect', async () => {
      const paths: string[] = [];
      handler = (request, response) => {
        paths.push(request.url ?? '');
        if (request.url === '/old') {
          response.writeHead(302, { location: '/new.png' });
          response.end();
        } else servePixel(request, response);
      };
      const image = await fetchPublicImage(new URL(`${origin}/old`), local());
      expect(image.data.equals(PIXEL)).to.equal(true);
      expect(paths).to.deep.equal(['/old', '/new.png']);
    });

    it('refuses a redirect to http://', async () => {
      handler = (_request, response) => {
        response.writeHead(301, { location: `http://127.0.0.1:${port}/pixel.png` });
        response.end();
      };
      expect((await refusal(`${origin}/old`, local())).message).to.equal('only https image URLs can be fetched');
    });

    it('stops after 3 redirects', async () => {
      let hops = 0;
      handler = (_request, response) => {
        hops++;
        response.writeHead(302, { location: `/hop${hops}` });
        response.end();
      };
      expect((await refusal(`${origin}/loop`, local())).message).to.equal('the image URL redirected more than 3 times');
      expect(hops).to.equal(4);
    });
  });

  describe('time limit', () => {
    it('gives up on a server that never answers', async () => {
      handler = () => {};
      const started = Date.now();
      const error = await refusal(`${origin}/slow.png`, local({ timeoutMs: 300 }));
      expect(error.message).to.equal('the image took longer than 300 ms to download');
      expect(Date.now() - started).to.be.below(8000); // at the limit, not at a later one: room for a busy machine
    });

    it('gives up on a body that stops half way', async () => {
      handler = (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': 100 });
        response.write(Buffer.alloc(10));
      };
      const started = Date.now();
      const error = await refusal(`${origin}/stalled.png`, local({ timeoutMs: 300 }));
      expect(error.message).to.equal('the image took longer than 300 ms to download');
      expect(Date.now() - started).to.be.below(8000); // at the limit, not at a later one: room for a busy machine
    });

    it("the caller's abort is passed through as it is, not as a refusal", async () => {
      const controller = new AbortController();
      handler = () => controller.abort(); // the download is out, unanswered
      const error = await failure(`${origin}/slow.png`, local({ signal: controller.signal }));
      expect(error).to.not.be.instanceOf(ImageFetchError);
      expect(error.name).to.equal('AbortError');
    });
  });
});
