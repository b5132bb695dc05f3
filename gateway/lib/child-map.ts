/**
 * One level of a tree of maps: the map under `key`, made and stored on first use. Hot-path tallies
 * (metrics, usage) find their entry this way, one level per field, rather than by a key string
 * built and hashed per call.
 */
export function childMap<K, K2, V>(parent: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let child = parent.get(key);
  if (child === undefined) {
    child = new Map();
    parent.set(key, child);
  }
  return child;
}
