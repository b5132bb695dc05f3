import type { ClientLimits, OwnCredentials } from '../config-file.ts';

// Declared beside the file's reader, which reads them for the keys it defines (config.ts imports nothing else).
export type { OwnCredentials, OwnGemini, OwnGigaChat } from '../config-file.ts';

/**
 * The caller an API key names: what the key check hands to the rest of a request. It never holds
 * the key itself. A record is replaced, not changed, when its key is edited, so it can be the key of
 * caches (compiled rules, providers built on its own credentials).
 */
export interface Client extends ClientLimits {
  /** Shown in logs, metrics and usage instead of the key. */
  name: string;
  /** Upstream accounts of its own; undefined means it spends the operator's. */
  own?: OwnCredentials;
}
