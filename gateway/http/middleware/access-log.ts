import type { Logger } from '../../lib/logger.ts';
import type { GatewayMiddleware } from '../state.ts';

/** One log line per request, when it is done. Never headers or bodies: they hold keys and prompts. */
export function accessLog(logger: Logger): GatewayMiddleware {
  // The line holds only the fields below, none secret; redaction would cost more than the rest of it.
  const lines = logger.child({}, { redact: [] });
  return async function logRequest(ctx, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      // 499 is nginx's "client closed request": not ours to fix, but worth seeing.
      const status = ctx.state.clientGone === true ? 499 : ctx.res.headersSent ? ctx.res.statusCode : ctx.status;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      lines[level]({
        requestId: ctx.state.requestId,
        method: ctx.method,
        path: ctx.path,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        client: ctx.state.clientName,
        model: ctx.state.model,
        provider: ctx.state.provider,
      });
    }
  };
}
