import type { Registry } from 'prom-client';
import type { GatewayMiddleware } from './state.ts';

/**
 * `GET /metrics`: the Prometheus text format, for a scraper on the internal network. No API key,
 * as scrapers rarely carry one; the series hold route patterns and key names, never a key.
 */
export function metricsEndpoint(registry: Registry): GatewayMiddleware {
  return async function serveMetrics(ctx) {
    const text = await registry.metrics();
    ctx.set('content-type', registry.contentType);
    ctx.body = text;
  };
}
