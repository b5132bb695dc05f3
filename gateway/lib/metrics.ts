import { collectDefaultMetrics, Registry } from 'prom-client';
import { LabelledCounter, LabelledHistogram } from './metric-series.ts';

/** The gateway's Prometheus metrics, served at `GET /metrics` (README, Metrics). */
export interface GatewayMetrics {
  readonly registry: Registry;
  /**
   * One finished HTTP request: route = the route pattern (e.g. '/v1/chat/completions', never a raw
   * path), model = the model that answered. Methods beyond the common ones count as `other`.
   */
  requestFinished(
    labels: { route: string; method: string; status: number; provider?: string; model?: string },
    seconds: number,
  ): void;
  /** Seconds from request start to the first byte of an event stream. */
  firstByte(provider: string, model: string, seconds: number): void;
  /** One failed upstream attempt (retried or not). kind: our error code, e.g. 'upstream_timeout', 'rate_limit_exceeded', 'upstream_error', 'upstream_unreachable', 'upstream_auth_error'. */
  upstreamError(provider: string, kind: string): void;
  /** An attempt was retried (reason = kind), and a fallback model was used for an alias. */
  upstreamRetry(provider: string, kind: string): void;
  fallbackUsed(alias: string, model: string): void;
  /** Tokens an answer used; client = the client key's name, or undefined; credential = whose paid (`operator:<name>`, `own`). */
  tokensUsed(
    provider: string,
    model: string,
    client: string | undefined,
    credential: string,
    prompt: number,
    completion: number,
  ): void;
  /** An operator credential answered 429 or 402 and rests (`operator:<name>`). */
  credentialCooldown(provider: string, credential: string): void;
  /** A GigaChat OAuth token fetch. */
  tokenRefresh(provider: string, outcome: 'ok' | 'failed'): void;
}

/** From 5 ms (a 404, a cached answer) to 2 minutes (a long completion); the upstream timeout is in that range. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
/** Finer at the low end: the gateway's own share of a first byte is a few milliseconds. */
const FIRST_BYTE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Node parses some 30 more methods (WebDAV's among them); each would be a series of its own. */
const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

let processMetrics: Registry | undefined;

/** The process's CPU, memory, event loop and GC metrics: collected once, however many gateways share the process. */
function processMetricsRegistry(): Registry {
  if (processMetrics === undefined) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/** A fresh registry per gateway instance (tests start many in one process), with the process's default metrics. */
export function createMetrics(): GatewayMetrics {
  const own = new Registry();
  const requests = new LabelledCounter('gigagate_http_requests_total', 'HTTP requests answered, by route pattern', [
    'route',
    'method',
    'status',
    'provider',
    'model',
  ]);
  const duration = new LabelledHistogram(
    'gigagate_http_request_duration_seconds',
    'Time from a request to the end of its answer',
    ['route', 'method', 'provider', 'model'],
    LATENCY_BUCKETS,
  );
  const firstByte = new LabelledHistogram(
    'gigagate_http_time_to_first_byte_seconds',
    'Time from a streamed request to its first event',
    ['provider', 'model'],
    FIRST_BYTE_BUCKETS,
  );
  const upstreamErrors = new LabelledCounter(
    'gigagate_upstream_errors_total',
    'Failed upstream attempts, retried or not, by error code',
    ['provider', 'kind'],
  );
  const upstreamRetries = new LabelledCounter(
    'gigagate_upstream_retries_total',
    'Upstream attempts retried, by the error that caused the retry',
    ['provider', 'kind'],
  );
  const fallbacks = new LabelledCounter('gigagate_model_fallbacks_total', 'Answers from a fallback model of an alias', [
    'alias',
    'model',
  ]);
  const tokens = new LabelledCounter('gigagate_tokens_total', 'Tokens used by answers, as the upstream counted them', [
    'provider',
    'model',
    'client',
    'credential',
    'type',
  ]);
  const cooldowns = new LabelledCounter(
    'gigagate_upstream_credential_cooldowns_total',
    'Operator credentials set to rest after a 429 or 402',
    ['provider', 'credential'],
  );
  const tokenRefreshes = new LabelledCounter(
    'gigagate_upstream_token_refreshes_total',
    'OAuth access token fetches from an upstream (GigaChat)',
    ['provider', 'outcome'],
  );
  for (const metric of [
    requests,
    duration,
    firstByte,
    upstreamErrors,
    upstreamRetries,
    fallbacks,
    tokens,
    cooldowns,
    tokenRefreshes,
  ]) {
    own.registerMetric(metric.asPromMetric());
  }
  const registry = Registry.merge([processMetricsRegistry(), own]);
  return {
    registry,
    requestFinished({ route, method, status, provider, model }, seconds) {
      const methodLabel = METHOD_LABELS.has(method) ? method : 'other';
      requests.inc(1, route, methodLabel, status, provider, model);
      duration.observe(seconds, route, methodLabel, provider, model);
    },
    firstByte(provider, model, seconds) {
      firstByte.observe(seconds, provider, model);
    },
    upstreamError(provider, kind) {
      upstreamErrors.inc(1, provider, kind);
    },
    upstreamRetry(provider, kind) {
      upstreamRetries.inc(1, provider, kind);
    },
    fallbackUsed(alias, model) {
      fallbacks.inc(1, alias, model);
    },
    tokensUsed(provider, model, client, credential, prompt, completion) {
      tokens.inc(prompt, provider, model, client, credential, 'prompt');
      tokens.inc(completion, provider, model, client, credential, 'completion');
    },
    credentialCooldown(provider, credential) {
      cooldowns.inc(1, provider, credential);
    },
    tokenRefresh(provider, outcome) {
      tokenRefreshes.inc(1, provider, outcome);
    },
  };
}
