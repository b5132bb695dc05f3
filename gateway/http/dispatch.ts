import type { ClientPolicy } from '../clients/policy.ts';
import type { RetrySettings } from '../config.ts';
import type { FileReader } from '../files/stored-file.ts';
import type { Logger } from '../lib/logger.ts';
import type { GatewayMetrics } from '../lib/metrics.ts';
import { toGatewayError } from '../openai/errors.ts';
import type { OpenAIChatChunk, OpenAIChatRequest, OpenAIUsage } from '../openai/types.ts';
import type { ChatStream, ProviderCall } from '../providers/provider.ts';
import type { AccountHooks, Accounts, AccountTarget } from '../routing/accounts.ts';
import { type AttemptHooks, callWithFallbacks } from '../routing/call-with-fallbacks.ts';
import { type ModelRouter, type Route, routeName, type Target } from '../routing/model-router.ts';
import type { Exchange, GatewayState } from './state.ts';

export interface DispatchDeps {
  router: ModelRouter;
  /** The accounts each attempt may be sent with: the client's own, or the operator's. */
  accounts: Accounts;
  policy: ClientPolicy;
  retry: RetrySettings;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Each client's files (POST /v1/files), for `file_id` content parts; absent where the gateway keeps none. */
  files?: { reader(owner: string | undefined): FileReader };
}

/**
 * A call made with no HTTP exchange (a background response): its state as a request's would be,
 * the signal that stops it, and how it says it is over.
 */
export interface DetachedCall {
  state: GatewayState;
  signal: AbortSignal;
  /** Runs `release` once the caller is done with the answer (a stream read to its end). */
  whenOver(release: () => void): void;
}

/** Who a call is made for: an HTTP exchange, or a detached caller. */
export type Caller = Exchange | DetachedCall;

/** What one upstream answer came with: the target that answered, and whose credential paid. */
export interface Dispatched<T> {
  value: T;
  target: AccountTarget;
}

/**
 * The steps every model-bound route shares (chat, embeddings, the 1C compatibility route): resolve
 * the name (aliases included), let the client's policy admit the request, call the upstream with
 * retries and fallbacks (routing/), say which model answered, and count what it used.
 */
export interface Dispatcher {
  /**
   * Routes `requested` for this client: 400 for a name outside the grammar, 404/503 for unknown or
   * unavailable models (a provider the operator has no credential for serves a key that brings its
   * own), 403/429 from the client's policy, which judges the canonical name (routeName).
   */
  open(caller: Caller, requested: string): Promise<Route>;
  /**
   * Tries the route until a target answers, each attempt with the account accounts.ts chooses;
   * `attempt` resolves only once it is safe to commit (before any byte went out). A failure has used
   * the gateway's retries, so it says `x-should-retry: false`.
   */
  call<T>(
    caller: Caller,
    route: Route,
    attempt: (target: AccountTarget, call: ProviderCall) => Promise<T>,
  ): Promise<Dispatched<T>>;
  /** Counts an answer's tokens for the client's usage, limits and metrics, under the credential that paid. */
  record(caller: Caller, target: AccountTarget, usage: OpenAIUsage | undefined): void;
}

/** The header that names the model that answered, as `provider/model`: with an alias it may be a fallback. */
export const ANSWERED_BY_HEADER = 'x-gigagate-model';

/** The header the OpenAI SDKs obey before their own retries (openai-node `shouldRetry`). */
const SHOULD_RETRY_HEADER = 'x-should-retry';

export function createDispatcher({
  router,
  accounts,
  policy,
  retry,
  metrics,
  logger,
  files,
}: DispatchDeps): Dispatcher {
  /** The hooks of one call: log lines name the credential of the attempt that failed. */
  const hooksOf = (sentWith: () => string | undefined): AttemptHooks => ({
    failed(target, error) {
      metrics.upstreamError(target.provider.name, toGatewayError(error).code ?? 'unknown');
    },
    retrying(target, error, waitMs) {
      const failure = toGatewayError(error);
      metrics.upstreamRetry(target.provider.name, failure.code ?? 'unknown');
      logger.warn(
        {
          provider: target.provider.name,
          model: target.model,
          credential: sentWith(),
          status: failure.status,
          code: failure.code,
          waitMs,
        },
        'upstream attempt failed; retrying',
      );
    },
    fallingBack(alias, from, to) {
      metrics.fallbackUsed(alias, to.model);
      logger.warn(
        { alias, from: from.model, to: `${to.provider.name}/${to.model}`, credential: sentWith() },
        'alias falls back to its next model',
      );
    },
  });
  const accountHooks: AccountHooks = {
    resting(target, failure, restMs, next) {
      const provider = target.provider.name;
      metrics.credentialCooldown(provider, target.credential);
      // The last one's failure goes on to the retries, which count it.
      if (next !== undefined) metrics.upstreamError(provider, failure.code ?? 'unknown');
      logger.warn(
        { provider, model: target.model, credential: target.credential, status: failure.status, restMs, next },
        next === undefined
          ? 'upstream credential rests; no other credential is ready'
          : 'upstream credential rests; the next one serves',
      );
    },
  };

  return {
    async open({ state }, requested) {
      const route = router.route(requested, (provider) => accounts.ownProvider(provider, state.client));
      const name = routeName(route);
      state.model = name;
      state.provider = route.targets[0]?.provider.name;
      await policy.admit(state.clientName, name);
      return route;
    },

    async call(caller, route, attempt) {
      const { state } = caller;
      const site = siteOf(caller);
      const { signal } = site;
      let last: ProviderCall | undefined;
      let sentWith: string | undefined;
      const reader = files?.reader(state.clientName);
      const context = {
        client: state.client,
        signal,
        hold: site.hold,
        hooks: accountHooks,
      };
      try {
        const { value: answered } = await callWithFallbacks(
          route,
          retry,
          signal,
          (target) =>
            accounts.attempt(target, context, (sent) => {
              sentWith = sent.credential;
              last = { signal, files: reader };
              return attempt(sent, last);
            }),
          hooksOf(() => sentWith),
        );
        state.provider = answered.target.provider.name;
        state.answeredModel = answered.target.model;
        site.header(ANSWERED_BY_HEADER, `${answered.target.provider.name}/${answered.target.model}`);
        return answered;
      } catch (error) {
        // Retries happen in one layer (README, "Retries"): a client that tried again would repeat
        // the attempts this gateway has already made. Retry-After still goes along for later.
        if (!signal.aborted) site.header(SHOULD_RETRY_HEADER, 'false');
        throw error;
      } finally {
        // The upstream's own id, so one failed call can be found on both sides.
        if (last?.upstreamRequestId !== undefined) site.header('x-upstream-request-id', last.upstreamRequestId);
      }
    },

    record({ state }, target, usage) {
      const provider = target.provider.name;
      policy.record(state.clientName, provider, target.model, usage, target.credential);
      if (usage !== undefined) {
        metrics.tokensUsed(
          provider,
          target.model,
          state.clientName,
          target.credential,
          usage.prompt_tokens,
          usage.completion_tokens,
        );
      }
    },
  };
}

/** What a call needs of its caller: the signal that stops it, when it is over, where its headers go. */
interface CallSite {
  signal: AbortSignal;
  hold(release: () => void): void;
  header(name: string, value: string): void;
}

function siteOf(caller: Caller): CallSite {
  if (!('res' in caller)) return { signal: caller.signal, hold: caller.whenOver, header() {} };
  const { res } = caller;
  return {
    signal: clientGoneSignal(caller),
    // Runs `release` once the exchange's response is over (sent, or the client gone).
    hold(release) {
      if (res.closed) release();
      else res.once('close', release);
    },
    header(name, value) {
      if (!res.headersSent) res.setHeader(name, value);
    },
  };
}

/** Fires when the client goes away before its answer is complete; every attempt's upstream call ends with it. */
function clientGoneSignal({ res }: Exchange): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** A chat stream opened, with its first chunk read: an attempt that resolves only once it is safe to commit. */
export interface OpenedStream {
  chunks: ChatStream;
  first: IteratorResult<OpenAIChatChunk, OpenAIUsage | undefined>;
}

/** Opens `request` as a stream on `target` and waits for its first chunk, so retries and fallbacks end with it. */
export async function openStream(
  target: Target,
  request: OpenAIChatRequest,
  call: ProviderCall,
): Promise<OpenedStream> {
  const chunks = target.provider.stream({ ...request, model: target.model }, call);
  return { chunks, first: await chunks.next() };
}

/** A response's `model`: the name the client asked for, or with an alias the model that answered. */
export function answeredModel(requested: string, route: Route, target: Target): string {
  return route.alias === undefined ? requested : target.model;
}
