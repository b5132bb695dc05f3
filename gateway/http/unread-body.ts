import type { IncomingMessage } from 'node:http';
import type { GatewayMiddleware } from './state.ts';

/** How much of a body nobody reads is taken and dropped after the answer, at most (README, "Limits"). */
export const LINGER_BYTES = 64 * 1024 * 1024;
/** How long the rest of such a body may keep arriving (nginx's lingering_time). */
export const LINGER_MS = 30_000;

/**
 * Takes and drops what is left of a request body nobody read (an answer before or instead of
 * reading it: 413, 401, 404, a Bitrix24 refusal), for at most LINGER_BYTES and LINGER_MS, then
 * closes the connection if the client is still sending. Closing at once, with bytes unread, makes
 * the kernel reset the connection, and a client still uploading sees EPIPE or ECONNRESET instead of
 * the answer: this is the lingering close of RFC 9112 §9.6 (and nginx). A body that ends in time
 * leaves a keep-alive connection usable for the next request.
 */
export function dropUnreadBody(request: IncomingMessage): void {
  if (request.complete || request.destroyed) return;
  const socket = request.socket;
  const destroySoon = socket.destroySoon;
  let closing = false;
  // Node ends a connection after its last answer (Connection: close) with destroySoon(). Until the
  // body is in, only our side closes: the answer goes out, then a FIN, and reading goes on.
  socket.destroySoon = () => {
    closing = true;
    socket.end();
  };
  let dropped = 0;
  const finish = (giveUp: boolean) => {
    clearTimeout(timer);
    request.off('data', count);
    request.off('end', ended);
    request.off('close', ended);
    socket.destroySoon = destroySoon;
    if (giveUp) socket.destroy();
    else if (closing) socket.destroySoon();
  };
  const ended = () => finish(false);
  const count = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) finish(true);
  };
  const timer = setTimeout(finish, LINGER_MS, true);
  timer.unref();
  request.on('data', count);
  request.once('end', ended);
  request.once('close', ended);
  request.resume();
}

/** The Koa form, first in the chain: whatever a route answered, an unread rest of its body is dropped. */
export const unreadBody: GatewayMiddleware = async function dropUnreadRest(ctx, next) {
  try {
    await next();
  } finally {
    dropUnreadBody(ctx.req);
  }
};
