/** Resources keeping this process alive, counted by type: `TCPSocketWrap`, `Timeout`, `FSReqCallback`… */
export type ResourceCounts = Record<string, number>;

/** What keeps the event loop alive right now (ref'd handles, pending requests, ref'd timers). */
export function activeResources(): ResourceCounts {
  const counts: ResourceCounts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/**
 * The baseline to compare against later. Taken one event-loop turn after the call, because mocha
 * arms a test's timeout timer only once the test function has returned its promise.
 */
export async function resourcesBefore(): Promise<ResourceCounts> {
  await new Promise(setImmediate);
  return activeResources();
}

/** The types (and how many) that `now` holds beyond `baseline`. */
export function resourcesAbove(baseline: ResourceCounts, now: ResourceCounts): ResourceCounts {
  const extra: ResourceCounts = {};
  for (const [type, count] of Object.entries(now)) {
    const above = count - (baseline[type] ?? 0);
    if (above > 0) extra[type] = above;
  }
  return extra;
}

/**
 * Resources still held beyond `baseline` once closing has settled. Sockets close a few event-loop
 * turns after `destroy()`, so it looks again for a bounded number of turns. Turns, not time: a
 * timer left behind must still be there when it looks, however short it is.
 */
export async function leftOpen(baseline: ResourceCounts, turns = 200): Promise<ResourceCounts> {
  let extra = resourcesAbove(baseline, activeResources());
  for (let turn = 0; turn < turns && Object.keys(extra).length > 0; turn++) {
    await new Promise(setImmediate);
    extra = resourcesAbove(baseline, activeResources());
  }
  return extra;
}
