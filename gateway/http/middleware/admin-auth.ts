import { timingSafeEqual } from 'node:crypto';
import { AuthenticationError, PermissionDeniedError } from '../../openai/errors.ts';
import type { GatewayMiddleware } from '../state.ts';
import { bearerToken, digest } from './auth.ts';

/**
 * Lets through only `Authorization: Bearer <GATEWAY_ADMIN_KEY>`, compared as SHA-256 digests in
 * constant time (as auth.ts does for client keys; a client key is never an admin key). Without
 * GATEWAY_ADMIN_KEY the admin endpoints are off: 403 saying how to turn them on.
 */
export function authenticateAdmin(adminKey: string | undefined): GatewayMiddleware {
  const expected = adminKey === undefined ? undefined : digest(adminKey);
  return async function checkAdminKey(ctx, next) {
    if (expected === undefined) {
      throw new PermissionDeniedError(
        'The admin endpoints are disabled: set GATEWAY_ADMIN_KEY (16 or more characters, different from every client key) and restart the gateway.',
        { code: 'admin_disabled' },
      );
    }
    const token = bearerToken(ctx.get('authorization'));
    if (token === undefined) {
      throw new AuthenticationError(
        'This is an admin endpoint: send the admin key in an Authorization header (Authorization: Bearer <GATEWAY_ADMIN_KEY>).',
        { code: 'missing_api_key' },
      );
    }
    if (!timingSafeEqual(expected, digest(token))) {
      throw new AuthenticationError('Incorrect admin key provided.');
    }
    await next();
  };
}
