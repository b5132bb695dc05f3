import type { ServerResponse } from 'node:http';

/** Writes a JSON answer as Koa does for an object body: compact, `application/json; charset=utf-8`, with a length. */
export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify(value);
  for (const name in headers) response.setHeader(name, headers[name] as string);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
