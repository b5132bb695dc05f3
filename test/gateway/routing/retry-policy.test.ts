import { expect } from 'chai';
import type { RetrySettings } from '../../../gateway/config.ts';
import {
  BadRequestError,
  InsufficientQuotaError,
  InternalError,
  RateLimitError,
  ServiceUnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../gateway/openai/errors.ts';
import {
  backoffMs,
  canFallBack,
  isRetryable,
  retryAfterMs,
  retryDelay,
} from '../../../gateway/routing/retry-policy.ts';

const settings: RetrySettings = { retries: 2, baseDelayMs: 100, maxWaitMs: 1000, budgetMs: 30_000 };
const NO_RETRY = { headers: { 'x-should-retry': 'false' } };

describe('retry policy', () => {
  it('retries 429, upstream 5xx, timeouts and network errors; not client errors, our bugs or our configuration', () => {
    expect(isRetryable(new RateLimitError('slow down'))).to.equal(true);
    expect(isRetryable(new UpstreamError('HTTP 500'))).to.equal(true);
    expect(isRetryable(new UpstreamError('unreachable', { code: 'upstream_unreachable' }))).to.equal(true);
    expect(isRetryable(new ServiceUnavailableError('overloaded'))).to.equal(true);
    expect(isRetryable(new UpstreamTimeoutError('late'))).to.equal(true);
    expect(isRetryable(new BadRequestError('bad'))).to.equal(false);
    expect(isRetryable(new InternalError())).to.equal(false);
    expect(isRetryable(new UpstreamError('wrong credentials', { code: 'upstream_auth_error', ...NO_RETRY }))).to.equal(
      false,
    );
  });

  it('falls back on what another provider may not share: 429, 5xx, timeouts, quota, our credentials', () => {
    expect(canFallBack(new UpstreamError('wrong credentials', NO_RETRY))).to.equal(true);
    expect(canFallBack(new InsufficientQuotaError('no tokens left'))).to.equal(true);
    expect(canFallBack(new UpstreamTimeoutError('late'))).to.equal(true);
    expect(canFallBack(new RateLimitError('slow down'))).to.equal(true);
    expect(canFallBack(new BadRequestError('bad'))).to.equal(false);
    expect(canFallBack(new InternalError())).to.equal(false);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(retryAfterMs(new RateLimitError('x', { headers: { 'retry-after': '3' } }), now)).to.equal(3000);
    expect(retryAfterMs(new RateLimitError('x', { headers: { 'retry-after': '0.5' } }), now)).to.equal(500);
    const date = { 'retry-after': 'Sat, 21 Nov 2026 10:00:07 GMT' };
    expect(retryAfterMs(new RateLimitError('x', { headers: date }), now)).to.equal(7000);
    expect(retryAfterMs(new RateLimitError('x', { headers: { 'retry-after': 'soon' } }), now)).to.equal(undefined);
    expect(retryAfterMs(new RateLimitError('x'), now)).to.equal(undefined);
  });

  it('backs off exponentially with full jitter, capped at the longest wait', () => {
    expect(backoffMs(0, settings, () => 0.999)).to.equal(99);
    expect(backoffMs(2, settings, () => 0.999)).to.equal(399);
    expect(backoffMs(10, settings, () => 0.999)).to.equal(999);
    expect(backoffMs(3, settings, () => 0)).to.equal(0);
  });

  it('waits what Retry-After asks up to the bound; beyond it, out of retries or not retryable, it does not retry', () => {
    expect(retryDelay(new RateLimitError('x', { headers: { 'retry-after': '1' } }), 0, settings)).to.equal(1000);
    expect(retryDelay(new RateLimitError('x', { headers: { 'retry-after': '2' } }), 0, settings)).to.equal(undefined);
    expect(retryDelay(new UpstreamError('HTTP 500'), 1, settings)).to.be.within(0, 200);
    expect(retryDelay(new UpstreamError('HTTP 500'), 2, settings)).to.equal(undefined);
    expect(retryDelay(new BadRequestError('bad'), 0, settings)).to.equal(undefined);
    expect(retryDelay(new UpstreamError('HTTP 500'), 0, { ...settings, retries: 0 })).to.equal(undefined);
  });
});
