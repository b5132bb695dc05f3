import { createHash } from 'node:crypto';
import type { KeyDirectory } from '../../clients/key-directory.ts';
import type { Client } from '../../config-file.ts';
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

/** The client an `Authorization` header names (undefined when the API is open); throws a 401. */
export type ApiKeyCheck = (authorization: string | undefined) => Client | undefined;

/** Checks `Authorization: Bearer <key>` against every key the directory knows. */
export function apiKeyCheck(keys: KeyDirectory): ApiKeyCheck {
  return function checkApiKey(authorization) {
    if (keys.open) return undefined;
    const token = bearerToken(authorization);
    if (token === undefined) {
      throw new AuthenticationError(
        "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer <key>).",
        { code: 'missing_api_key' },
      );
    }
    const client = keys.find(token);
    if (client === undefined) throw new AuthenticationError('Incorrect API key provided.');
    return client;
  };
}

/** The Koa form of an apiKeyCheck (createApp builds the one check both entrances use). */
export function authenticate(check: ApiKeyCheck): GatewayMiddleware {
  return async function checkApiKey(ctx, next) {
    const client = check(ctx.get('authorization'));
    if (client !== undefined) {
      ctx.state.client = client;
      ctx.state.clientName = client.name;
    }
    await next();
  };
}
