import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { SealedSecretError } from '../../gateway/lib/secrets/secret-box.ts';
import { answerBitrixError, answerOpenAIError } from './http-answers.ts';

const DESCRIPTION =
  "This portal's stored credentials cannot be read with the server's keys; the operator must restore the key.";

/**
 * A portal whose stored secrets do not open (sealed with a key that is not configured) gets a 503
 * in its route's error shape, and the log says which key is missing; nothing secret in either.
 */
export function answerUnreadableSecrets(logger: Logger) {
  return async function handleUnreadableSecrets(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof SealedSecretError)) throw error;
      logger.error({ problem: error.message }, 'Bitrix24: stored secrets cannot be opened');
      if (ctx.path.startsWith('/b24/app/api/')) {
        return answerOpenAIError(ctx, 503, 'api_error', DESCRIPTION, 'secrets_unreadable');
      }
      answerBitrixError(ctx, 503, 'SECRETS_UNREADABLE', DESCRIPTION);
    }
  };
}
