import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Middleware } from 'koa';
import type { Client } from '../config-file.ts';

declare module 'koa' {
  interface Request {
    /** The parsed JSON body, set by the json-body middleware. */
    body?: unknown;
  }
}

/** What the middleware chain learns about a request, for the handlers and the access log. */
export interface GatewayState {
  requestId: string;
  /** The client whose key authenticated the request. */
  client?: Client;
  /** Its name (the access log's and metrics' label). */
  clientName?: string;
  /** The model the request was routed to (routeName: an alias, or `provider/model`), once its name was valid. */
  model?: string;
  provider?: string;
  /** The upstream model id that answered; the metrics' `model` label, so only real models become series. */
  answeredModel?: string;
  /** The client closed the connection before the answer was complete. */
  clientGone?: boolean;
  /** When an event stream's first bytes were written (`performance.now()`, the access log's clock). */
  firstByteAt?: number;
}

export type GatewayContext = Context & { state: GatewayState };
export type GatewayMiddleware = Middleware<GatewayState>;

/** One HTTP exchange as the handlers see it. A Koa context is one; so is the chat entrance's (chat-entrance.ts). */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  state: GatewayState;
}
