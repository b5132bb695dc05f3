import type { Logger } from '../../lib/logger.ts';
import { GatewayError, MethodNotAllowedError, NotFoundError, toGatewayError } from '../../openai/errors.ts';
import type { GatewayMiddleware, GatewayState } from '../state.ts';

/**
 * The OpenAI-shaped answer to a failure, or undefined when the client left (our only abort
 * source): there is nobody to answer. A 500 is logged with its stack, never shown.
 */
export function answerForFailure(error: unknown, state: GatewayState, logger: Logger): GatewayError | undefined {
  if (error instanceof Error && error.name === 'AbortError') {
    state.clientGone = true;
    return undefined;
  }
  const answer = toGatewayError(error);
  if (!(error instanceof GatewayError) && answer.status >= 500) {
    logger.error({ err: error }, 'unexpected error');
  }
  return answer;
}

/** Answers every failure in OpenAI's error shape (answerForFailure). */
export function errorHandler(logger: Logger): GatewayMiddleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (error) {
      const answer = answerForFailure(error, ctx.state, logger);
      if (answer === undefined || ctx.res.headersSent) return; // a stream that already began reports its own errors
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = answer.toBody();
    }
  };
}

/** Turns what no route answered (404) or a route answered only for other methods (405) into errors. */
export const rejectUnrouted: GatewayMiddleware = async function rejectUnrouted(ctx, next) {
  await next();
  if (ctx.status === 405 || ctx.status === 501) {
    const allowed = ctx.response.get('allow').split(/,\s*/);
    throw new MethodNotAllowedError(
      `${ctx.method} is not allowed on ${ctx.path}; use ${allowed.join(' or ')}.`,
      allowed,
    );
  }
  if (ctx.status === 404 && ctx.body == null && !ctx.res.headersSent) {
    throw new NotFoundError(`Unknown route: ${ctx.method} ${ctx.path}`, { code: 'unknown_route' });
  }
};
