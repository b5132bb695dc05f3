import type { RetrySettings } from '../config.ts';
import { type GatewayError, toGatewayError } from '../openai/errors.ts';
import { OwnCredentialRefusedError } from './own-credential-refused.ts';

/*
 * Which failed upstream calls are worth another try, and how long to wait first. Errors arrive
 * already mapped to GatewayErrors by the providers; `x-should-retry: false` marks the ones that
 * another try of the same model cannot fix (our credentials, our region, a missing provider).
 */

/** Another try of the same model may succeed: 429, an upstream 5xx, a timeout, a network error. */
export function isRetryable(error: GatewayError): boolean {
  if (error.headers['x-should-retry'] === 'false') return false;
  return error.status === 429 || error.status === 502 || error.status === 503 || error.status === 504;
}

/**
 * Another model may succeed: everything retryable, plus what is wrong with one provider only
 * (its credentials, region, quota or configuration). Never a client error or a bug of ours, nor a
 * key's own credential refused (its owner fixes it; another model would bill the operator).
 */
export function canFallBack(error: GatewayError): boolean {
  if (error instanceof OwnCredentialRefusedError) return false;
  return error.status === 402 || error.status === 429 || (error.status >= 502 && error.status <= 504);
}

/** The upstream's Retry-After in milliseconds (seconds or an HTTP date), when it sent one. */
export function retryAfterMs(error: GatewayError, now: number = Date.now()): number | undefined {
  const raw = error.headers['retry-after'];
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter: a random wait up to base × 2^retry, capped at maxWaitMs. */
export function backoffMs(retry: number, settings: RetrySettings, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(settings.maxWaitMs, settings.baseDelayMs * 2 ** retry));
}

/**
 * How long to wait before retry number `retry` (0-based) after `error`, or undefined when this
 * model should not be tried again: not retryable, out of retries, or a Retry-After longer than
 * the bound (the client gets the 429 with that Retry-After instead of the gateway sleeping on it).
 */
export function retryDelay(error: unknown, retry: number, settings: RetrySettings): number | undefined {
  const failure = toGatewayError(error);
  if (retry >= settings.retries || !isRetryable(failure)) return undefined;
  const asked = retryAfterMs(failure);
  if (asked === undefined) return backoffMs(retry, settings);
  return asked <= settings.maxWaitMs ? asked : undefined;
}
