/**
 * Wraps a loader so its value is fetched at most once per `ttlMs`: concurrent callers share one
 * load, and a failed refresh serves the last good value (a failure with no value rethrows).
 */
export function cached<T>(load: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let value: { data: T; loadedAt: number } | undefined;
  let pending: Promise<T> | undefined;
  return async () => {
    if (value !== undefined && now() - value.loadedAt < ttlMs) return value.data;
    pending ??= load()
      .then((data) => {
        value = { data, loadedAt: now() };
        return data;
      })
      .catch((error: unknown) => {
        if (value !== undefined) return value.data;
        throw error;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
