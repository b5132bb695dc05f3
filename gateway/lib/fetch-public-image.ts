import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import tls from 'node:tls';

/*
 * Downloads an image a client referred to by URL, for upstreams that want its bytes (inline, or
 * uploaded to their file storage). The URL comes from whoever calls the API, so it must not reach
 * this machine's own network (SSRF): only https, and every address the name resolves to is checked
 * at connect time (so DNS cannot change its answer between the check and the connection),
 * redirects included.
 */

export interface ImageFetchOptions {
  /** The content types the caller's upstream takes; the URL must serve one of them. */
  types: ReadonlySet<string>;
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Tests only: also reach loopback and private addresses. */
  allowPrivateAddresses?: boolean;
  /** Tests only: an extra trusted CA (PEM). */
  ca?: string;
}

export interface FetchedImage {
  mimeType: string;
  data: Buffer;
}

/** The image could not be used; the message says why in words for the API client. */
export class ImageFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFetchError';
  }
}

const MAX_REDIRECTS = 3;
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** True for loopback, private, link-local, shared, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  // BlockList matches IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) against the IPv4 rules.
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export async function fetchPublicImage(url: URL, options: ImageFetchOptions): Promise<FetchedImage> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const answer = await get(current, options, signal).catch((error: unknown) => {
      if (error instanceof ImageFetchError) throw error;
      if (deadline.aborted) throw new ImageFetchError(`the image took longer than ${options.timeoutMs} ms to download`);
      if (options.signal?.aborted) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new ImageFetchError(`the image could not be downloaded (${code ?? (error as Error).message})`);
    });
    if ('location' in answer) {
      if (redirects === MAX_REDIRECTS)
        throw new ImageFetchError(`the image URL redirected more than ${MAX_REDIRECTS} times`);
      current = new URL(answer.location, current);
      continue;
    }
    return answer;
  }
}

function get(url: URL, options: ImageFetchOptions, signal: AbortSignal): Promise<FetchedImage | { location: string }> {
  if (url.protocol !== 'https:') throw new ImageFetchError('only https image URLs can be fetched');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0 && !options.allowPrivateAddresses && isPrivateAddress(literal)) {
    throw new ImageFetchError('the image URL points to a private or local address');
  }
  return new Promise((resolve, reject) => {
    const request = https.get(url, {
      signal,
      agent: false,
      ca: options.ca === undefined ? undefined : [...tls.getCACertificates('default'), options.ca],
      headers: { accept: [...options.types].join(', '), 'user-agent': 'gigagate-image-fetch' },
      lookup: options.allowPrivateAddresses ? undefined : publicOnlyLookup,
    });
    request.once('error', reject);
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        response.resume();
        resolve({ location });
        return;
      }
      const mimeType = (response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const declared = Number(response.headers['content-length'] ?? 0);
      const refuse = (problem: string) => {
        response.destroy();
        reject(new ImageFetchError(problem));
      };
      if (status !== 200) return refuse(`the image URL answered HTTP ${status}`);
      if (!options.types.has(mimeType)) {
        return refuse(`the URL serves "${mimeType || 'no content type'}", not one of ${[...options.types].join(', ')}`);
      }
      if (declared > options.maxBytes) return refuse(`the image is larger than ${options.maxBytes} bytes`);
      const pieces: Buffer[] = [];
      let size = 0;
      response.on('data', (piece: Buffer) => {
        size += piece.length;
        if (size > options.maxBytes) refuse(`the image is larger than ${options.maxBytes} bytes`);
        else pieces.push(piece);
      });
      response.once('end', () => resolve({ mimeType, data: Buffer.concat(pieces) }));
      response.once('error', reject);
    });
  });
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

// Node calls this with `all: true` when it races IPv4 and IPv6 (autoSelectFamily), otherwise without.
function publicOnlyLookup(hostname: string, lookupOptions: { all?: boolean }, callback: LookupCallback): void {
  dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
    if (error !== null) return callback(error, []);
    if (addresses.length === 0 || addresses.some((entry) => isPrivateAddress(entry.address))) {
      return callback(new ImageFetchError(`${hostname} resolves to a private or local address`), []);
    }
    if (lookupOptions.all === true) return callback(null, addresses);
    const first = addresses[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
}
