import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClientKey } from '../../config.ts';
import { AuthenticationError } from '../../openai/errors.ts';
import type { GatewayMiddleware } from '../state.ts';

/** A key's SHA-256: digests of equal length compare in constant time, whatever the keys' lengths. */
export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The key of `Authorization: Bearer <key>`, or undefined when the header has no such form. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

/** Names the client an `Authorization` header belongs to (undefined when no keys are configured); throws a 401. */
export type ApiKeyCheck = (authorization: string | undefined) => string | undefined;

/**
 * Checks `Authorization: Bearer <key>` against GATEWAY_API_KEYS. Keys are compared as SHA-256
 * digests in constant time, and every key is compared, so timing reveals neither key nor match.
 * With no keys configured (loopback only, enforced by the config) every request passes.
 */
export function apiKeyCheck(keys: readonly ClientKey[]): ApiKeyCheck {
  const known = keys.map((key) => ({ name: key.name, digest: digest(key.key) }));
  return function checkApiKey(authorization) {
    if (known.length === 0) return undefined;
    const token = bearerToken(authorization);
    if (token === undefined) {
      throw new AuthenticationError(
        "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer <key>).",
        { code: 'missing_api_key' },
      );
    }
    const presented = digest(token);
    let name: string | undefined;
    for (const key of known) {
      if (timingSafeEqual(key.digest, presented)) name = key.name;
    }
    if (name === undefined) throw new AuthenticationError('Incorrect API key provided.');
    return name;
  };
}

/** The Koa form of an apiKeyCheck (createApp builds the one check both entrances use). */
export function authenticate(check: ApiKeyCheck): GatewayMiddleware {
  return async function checkApiKey(ctx, next) {
    const name = check(ctx.get('authorization'));
    if (name !== undefined) ctx.state.clientName = name;
    await next();
  };
}
