import { setTimeout as sleep } from 'node:timers/promises';
import type { RetrySettings } from '../config.ts';
import { toGatewayError } from '../openai/errors.ts';
import type { Route, Target } from './model-router.ts';
import { canFallBack, retryDelay } from './retry-policy.ts';

/** What the caller learns while a route is tried; metrics and logs hang here. */
export interface AttemptHooks {
  /** An attempt failed (before any byte reached the client). */
  failed?(target: Target, error: unknown): void;
  /** The same target is tried again after `waitMs`. */
  retrying?(target: Target, error: unknown, waitMs: number): void;
  /** An alias moves on to its next target. */
  fallingBack?(alias: string, from: Target, to: Target): void;
}

export interface Answered<T> {
  value: T;
  /** The target that answered. */
  target: Target;
}

/**
 * Runs `attempt` against a route's targets until one succeeds: each target is retried while its
 * failures are retryable (retry-policy.ts), then the next target is tried when the failure allows
 * a fallback. `attempt` must only resolve once it is safe to commit to the target: before the
 * first byte went to the client. No new attempt starts after `budgetMs`; the last failure is thrown.
 * The client leaving (`signal`) ends everything at once.
 */
export async function callWithFallbacks<T>(
  route: Route,
  settings: RetrySettings,
  signal: AbortSignal,
  attempt: (target: Target) => Promise<T>,
  hooks: AttemptHooks = {},
): Promise<Answered<T>> {
  const deadline = performance.now() + settings.budgetMs;
  const { targets } = route;
  let failure: unknown;
  for (const [index, target] of targets.entries()) {
    for (let retry = 0; ; retry++) {
      try {
        return { value: await attempt(target), target };
      } catch (error) {
        if (signal.aborted) throw error;
        hooks.failed?.(target, error);
        failure = error;
      }
      const wait = retryDelay(failure, retry, settings);
      if (wait === undefined || performance.now() + wait >= deadline) break;
      hooks.retrying?.(target, failure, wait);
      await sleep(wait, undefined, { signal });
    }
    const next = targets[index + 1];
    if (next === undefined || !canFallBack(toGatewayError(failure)) || performance.now() >= deadline) break;
    if (route.alias !== undefined) hooks.fallingBack?.(route.alias, target, next);
  }
  throw failure;
}
