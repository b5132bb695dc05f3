import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/** Starts an HTTPS server on an ephemeral loopback port with the test CA's certificate. */
export async function startHttpsServer(
  tls: { key: string; cert: string },
  handle: (request: IncomingMessage, body: string, response: ServerResponse) => void | Promise<void>,
): Promise<{ server: Server; origin: string; port: number }> {
  const server = https.createServer(tls, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      Promise.resolve(handle(request, Buffer.concat(chunks).toString('utf8'), response)).catch((error: unknown) => {
        if (!response.headersSent)
          sendJson(response, 500, { error: 'TEST_SERVER_ERROR', error_description: String(error) });
        else response.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `https://127.0.0.1:${port}`, port };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Parses a JSON or form body the way PHP would see it (flat keys only for forms). */
export function parseBody(request: IncomingMessage, body: string): Record<string, any> {
  if (body === '') return {};
  if ((request.headers['content-type'] ?? '').includes('json')) return JSON.parse(body);
  return Object.fromEntries(new URLSearchParams(body));
}
