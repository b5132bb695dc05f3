import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BENCH_GEMINI_KEY, BENCH_GIGACHAT_TOKEN } from './credentials.ts';

/*
 * The practical limit the gateway is measured against: a bare Node `http` proxy that forwards the
 * same bytes to the upstream over a keep-alive pool, with no parsing, validation or translation.
 * The path is the upstream's own (GigaChat's or Gemini's); it adds the credential the upstream
 * needs, as the gateway does. Usage: node test/bench/passthrough.ts <upstream port>; prints
 * `{"port": N}` when it listens.
 */

const upstreamPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((request, response) => {
  const path = request.url ?? '/';
  const credential: Record<string, string> = path.startsWith('/v1beta/')
    ? { 'x-goog-api-key': BENCH_GEMINI_KEY }
    : { authorization: `Bearer ${BENCH_GIGACHAT_TOKEN}` };
  const upstream = http.request(
    {
      host: '127.0.0.1',
      port: upstreamPort,
      path,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': request.headers['content-length'] ?? '0',
        ...credential,
      },
      agent,
    },
    (reply) => {
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(response);
    },
  );
  upstream.on('error', () => response.destroy());
  request.pipe(upstream);
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
