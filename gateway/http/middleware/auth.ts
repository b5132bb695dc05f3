import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClientKey } from '../../config.ts';
import { AuthenticationError } from '../../openai/errors.ts';
import type { GatewayMiddleware } from '../state.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Checks `Authorization: Bearer <key>` against GATEWAY_API_KEYS. Keys are compared as SHA-256
 * digests in constant time, and every key is compared, so timing reveals neither key nor match.
 * With no keys configured (loopback only, enforced by the config) every request passes.
 */
export function authenticate(keys: readonly ClientKey[]): GatewayMiddleware {
  const known = keys.map((key) => ({ name: key.name, digest: digest(key.key) }));
  return async function checkApiKey(ctx, next) {
    if (known.length > 0) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
      if (match === null) {
        throw new AuthenticationError(
          "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer <key>).",
          { code: 'missing_api_key' },
        );
      }
      const presented = digest(match[1] as string);
      let name: string | undefined;
      for (const key of known) {
        if (timingSafeEqual(key.digest, presented)) name = key.name;
      }
      if (name === undefined) throw new AuthenticationError('Incorrect API key provided.');
      ctx.state.clientName = name;
    }
    await next();
  };
}
