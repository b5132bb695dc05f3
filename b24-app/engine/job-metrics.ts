import { Counter, type Registry } from 'prom-client';

/** queued: a new job was accepted; delivered: its answer reached the portal; failed: it ended without one. */
export type JobEvent = 'queued' | 'delivered' | 'failed';

/** Counts a Bitrix24 job's event in the host's Prometheus metrics. */
export type CountJob = (event: JobEvent) => void;

const EVENTS: readonly JobEvent[] = ['queued', 'delivered', 'failed'];

/**
 * `gigagate_b24_jobs_total{event}` in the given registry (the gateway's `GET /metrics`), or
 * nothing when the app runs without one.
 */
export function createJobCounter(registry: Registry | undefined): CountJob {
  if (registry === undefined) return () => {};
  const counter = new Counter({
    name: 'gigagate_b24_jobs_total',
    help: 'Bitrix24 CoPilot jobs: accepted (queued), answered to the portal (delivered), ended without an answer (failed)',
    labelNames: ['event'],
    registers: [registry],
  });
  // Every series from 0, so a rate is defined before the first failure.
  for (const event of EVENTS) counter.inc({ event }, 0);
  return (event) => counter.inc({ event });
}
