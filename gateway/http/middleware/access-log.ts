import { flatLineWriter, type Logger } from '../../lib/logger.ts';
import type { GatewayMetrics } from '../../lib/metrics.ts';
import type { Exchange, GatewayMiddleware } from '../state.ts';

/**
 * Writes a request's one log line and counts it in the metrics, once it is done. `route` is the
 * route pattern (never the raw path: it may hold a portal key); `status` counts when no answer went out.
 */
export type AccessLogWriter = (
  exchange: Exchange,
  path: string,
  route: string,
  started: number,
  status: number,
) => void;

/** The `route` label of requests no route matched: one value, however many paths clients try. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The segment after `/b24/engine/` in a Bitrix24 engine URL is `<member_id>.<secret>`: everything
 * from the first character that cannot be part of a member_id on is hidden. Any case and repeated
 * slashes (spellings the router may still take), anywhere in the path (a proxy's prefix), matched
 * route or not.
 */
const ENGINE_KEY = /(\/b24\/+engine\/+[\w-]*)(?=[^\w/-])[^/]*/gi;
const ENGINE_PATH = /\/b24\/+engine\//i;

/** A request path as the log may show it: engine URL secrets replaced by `[redacted]`. */
export function redactEngineKeys(path: string): string {
  // The test first: it is much cheaper than the replace, and most paths have no key.
  return ENGINE_PATH.test(path) ? path.replace(ENGINE_KEY, '$1.[redacted]') : path;
}

/** One log line per request. Never headers or bodies: they hold keys and prompts. */
export function accessLogWriter(logger: Logger, metrics: GatewayMetrics): AccessLogWriter {
  // The line holds only the fields below, none secret: a flat line needs none of pino's redaction or mixin.
  const writeLine = flatLineWriter(logger);
  return function logRequest({ req, res, state }, path, route, started, status) {
    // 499 is nginx's "client closed request": not ours to fix, but worth seeing.
    const answered = state.clientGone === true ? 499 : res.headersSent ? res.statusCode : status;
    const level = answered >= 500 ? 'error' : answered >= 400 ? 'warn' : 'info';
    const elapsedMs = performance.now() - started;
    const { model, answeredModel, provider, firstByteAt } = state;
    const method = req.method ?? 'GET';
    writeLine(level, {
      requestId: state.requestId,
      method,
      path: redactEngineKeys(path),
      status: answered,
      ms: Math.round(elapsedMs * 10) / 10,
      client: state.clientName,
      model,
      provider,
    });
    // Series are labelled with the model that answered, never a name a client made up.
    metrics.requestFinished({ route, method, status: answered, provider, model: answeredModel }, elapsedMs / 1000);
    if (firstByteAt !== undefined && provider !== undefined && answeredModel !== undefined) {
      metrics.firstByte(provider, answeredModel, (firstByteAt - started) / 1000);
    }
  };
}

/** The Koa form of an accessLogWriter (createApp builds the one writer both entrances use). */
export function accessLog(write: AccessLogWriter): GatewayMiddleware {
  return async function logRequest(ctx, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      // @koa/router leaves the pattern of the route it ran here; its type does not reach Koa's context.
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      write(ctx, ctx.path, matched === undefined ? UNMATCHED_ROUTE : String(matched), started, ctx.status);
    }
  };
}
