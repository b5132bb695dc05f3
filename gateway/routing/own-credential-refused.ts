import { UpstreamError } from '../openai/errors.ts';

/**
 * The upstream refused the credential a client key brings (GigaChat's OAuth or a second 401,
 * Gemini's invalid key). Only the key's owner can fix it, so nothing retries it and no alias falls
 * back from it: the request would be billed to the operator's account instead.
 */
export class OwnCredentialRefusedError extends UpstreamError {
  constructor(displayName: string) {
    super(
      `${displayName} refused this key's own ${displayName} credential. Calls with this key use only its own ` +
        `${displayName} credential, never the gateway's: update the credential stored with the key.`,
      { code: 'upstream_auth_error', headers: { 'x-should-retry': 'false' } },
    );
  }
}
