import type { Logger } from '../../lib/logger.ts';
import type { Exchange, GatewayMiddleware } from '../state.ts';

/** Writes a request's one log line, once it is done; `status` counts when no answer went out. */
export type AccessLogWriter = (exchange: Exchange, path: string, started: number, status: number) => void;

/** One log line per request. Never headers or bodies: they hold keys and prompts. */
export function accessLogWriter(logger: Logger): AccessLogWriter {
  // The line holds only the fields below, none secret; redaction would cost more than the rest of it.
  const lines = logger.child({}, { redact: [] });
  return function logRequest({ req, res, state }, path, started, status) {
    // 499 is nginx's "client closed request": not ours to fix, but worth seeing.
    const answered = state.clientGone === true ? 499 : res.headersSent ? res.statusCode : status;
    const level = answered >= 500 ? 'error' : answered >= 400 ? 'warn' : 'info';
    lines[level]({
      requestId: state.requestId,
      method: req.method,
      path,
      status: answered,
      ms: Math.round((performance.now() - started) * 10) / 10,
      client: state.clientName,
      model: state.model,
      provider: state.provider,
    });
  };
}

/** The Koa form of accessLogWriter. */
export function accessLog(logger: Logger): GatewayMiddleware {
  const write = accessLogWriter(logger);
  return async function logRequest(ctx, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      write(ctx, ctx.path, started, ctx.status);
    }
  };
}
