import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/logger.ts';
import {
  BadRequestError,
  GatewayError,
  MethodNotAllowedError,
  NotFoundError,
  toGatewayError,
} from '../../openai/errors.ts';
import type { Exchange, GatewayMiddleware } from '../state.ts';

/**
 * Why a request's body stopped arriving, if it did: Node refused its framing (a broken chunk size,
 * say; Node has answered 400 itself and closed the connection), or the client left mid-body.
 */
function brokenBody(request: IncomingMessage): 'malformed' | 'gone' | undefined {
  const socket = request.socket as Socket | null;
  if (request.complete || socket === null || !socket.destroyed) return undefined;
  const code = (socket.errored as NodeJS.ErrnoException | null)?.code;
  // llhttp's end-of-input error is a client that closed the connection before its body was complete.
  return code?.startsWith('HPE_') === true && code !== 'HPE_INVALID_EOF_STATE' ? 'malformed' : 'gone';
}

/**
 * The OpenAI-shaped answer to a failure, or undefined when the client left (our only abort
 * source): there is nobody to answer. A 500 is logged with its stack, never shown. A body Node
 * refused is the client's 400, whatever the reader made of it.
 */
export function answerForFailure(error: unknown, exchange: Exchange, logger: Logger): GatewayError | undefined {
  const { state } = exchange;
  const broken = brokenBody(exchange.req);
  if ((error instanceof Error && error.name === 'AbortError') || broken === 'gone') {
    state.clientGone = true;
    return undefined;
  }
  if (broken === 'malformed') {
    return new BadRequestError('The request body is malformed: its framing could not be read.', {
      code: 'invalid_body',
    });
  }
  const answer = toGatewayError(error);
  if (!(error instanceof GatewayError) && answer.status >= 500) {
    logger.error({ err: error }, 'unexpected error');
  }
  return answer;
}

/** A failure's status and body on the wire, from its OpenAI-shaped answer. */
export type FailureShape = (answer: GatewayError, exchange: Exchange) => { status: number; body: unknown };

const openAIShape: FailureShape = (answer) => ({ status: answer.status, body: answer.toBody() });

/** Answers every failure (answerForFailure) in OpenAI's error shape, or in a route's own `shape`. */
export function errorHandler(logger: Logger, shape: FailureShape = openAIShape): GatewayMiddleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (error) {
      const answer = answerForFailure(error, ctx, logger);
      if (answer === undefined || ctx.res.headersSent) return; // a stream that already began reports its own errors
      const { status, body } = shape(answer, ctx);
      ctx.status = status;
      ctx.set(answer.headers);
      ctx.body = body;
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
