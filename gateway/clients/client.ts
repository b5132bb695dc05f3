import type { GigaChatScope } from '../config.ts';
import type { ClientLimits } from '../config-file.ts';

/** A GigaChat account a client key brings: its authorization key (Base64 of `client_id:client_secret`) and scope. */
export interface OwnGigaChat {
  credentials: string;
  scope: GigaChatScope;
}

/** A Gemini account a client key brings. */
export interface OwnGemini {
  apiKey: string;
}

/** Upstream accounts a key brings: its calls to that provider are billed to them, never to the operator's. */
export interface OwnCredentials {
  gigachat?: OwnGigaChat;
  gemini?: OwnGemini;
}

/**
 * The caller an API key names: what the key check hands to the rest of a request. It never holds
 * the key itself. A record is replaced, not changed, when its key is edited, so it can be the key of
 * caches (compiled rules, providers built on its own credentials).
 */
export interface Client extends ClientLimits {
  /** Shown in logs, metrics and usage instead of the key. */
  name: string;
  /** Upstream accounts of its own; undefined means it spends the operator's. */
  own?: OwnCredentials;
}

/** True for GigaChat Studio's authorization key: Base64 of `client_id:client_secret`. */
export function isGigaChatAuthorizationKey(text: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').toString('utf8').includes(':');
}
