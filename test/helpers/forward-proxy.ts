import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';

/**
 * A minimal forward proxy on loopback, as an operator's Squid would be: CONNECT tunnels (what
 * clients use for https, and undici for every scheme) and absolute-URI requests. It records the
 * host:port of everything that went through it.
 */
export class ForwardProxy {
  readonly server: http.Server;
  readonly url: string;
  readonly targets: string[] = [];
  readonly #tunnels = new Set<net.Socket>();

  private constructor(server: http.Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(): Promise<ForwardProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new ForwardProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const target = request.url ?? '';
      proxy.targets.push(target);
      const [host, port] = target.split(':');
      const upstream = net.connect(Number(port), host ?? '', () => {
        proxy.#tunnels.add(client).add(upstream);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    server.on('request', (request, response) => {
      const target = new URL(request.url ?? '');
      proxy.targets.push(target.host);
      const forwarded = http.request(target, { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    });
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.#tunnels) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
