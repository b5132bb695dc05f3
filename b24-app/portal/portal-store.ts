import { SealedSecretError, SecretBox } from '../../gateway/lib/secrets/secret-box.ts';
import { jobKeyPrefix } from '../engine/jobs.ts';
import { type B24Store, keysWithPrefix } from '../store.ts';

/** The OAuth token set of a portal, as the OAuth server last issued it. */
export interface PortalTokens {
  accessToken: string;
  refreshToken: string;
  /** Unix seconds. */
  expires: number;
  expiresIn: number;
  scope: string;
  userId: number;
  /** `L` local, `F` free, `P` paid… (informational). */
  status: string;
  /**
   * Which OAuth client (client_id and secret, oauthClientDigest) the OAuth server issued them to;
   * undefined in records from before it was kept.
   */
  issuedTo?: string;
}

/** An engine this app registered on the portal. */
export interface EngineRecord {
  code: string;
  model: string;
  name: string;
}

/** Everything the app keeps about one portal, stored under its `member_id`. */
export interface PortalRecord {
  memberId: string;
  /** `oauth`: installed as an app; `webhook`: engines registered by the CLI through an incoming webhook. */
  kind: 'oauth' | 'webhook';
  /** The portal's host, with the port when it is not 443 (`acme.bitrix24.ru`). */
  domain: string;
  /** `https://<domain>/rest/`, as the trusted OAuth server reported it. */
  clientEndpoint: string;
  /** The portal's OAuth server, always one of the trusted hosts. */
  serverEndpoint: string;
  tokens: PortalTokens | undefined;
  /** Proves ONAPPUNINSTALL comes from the portal: Bitrix24 sends it as `auth[application_token]`. */
  applicationToken: string | undefined;
  engines: EngineRecord[];
  installedAt: number;
  updatedAt: number;
  /**
   * Our app's CODE as `app.info` reported it at a verified install: the client_id of a local app,
   * the Market code (`vendor.app`) of an app-directory app. Page sessions need a token with it.
   */
  appCode?: string;
  /** Mixed into the engine URL secret; new on every install and rotation (portal-key.ts). Absent: the old formula. */
  keyNonce?: string;
  /** Unix ms when keyNonce was made. */
  keyNonceSince?: number;
  /** An ONAPPUNINSTALL that could not be confirmed yet (uninstall.ts); nothing was deleted. */
  uninstallPending?: UninstallPending;
}

/** Why an uninstall waits, since when, and when the OAuth server was last asked. */
export interface UninstallPending {
  /** Unix ms of the ONAPPUNINSTALL. */
  since: number;
  /** The OAuth server's inconclusive answer: `invalid_grant`, `unreachable`… */
  reason: string;
  checkedAt: number;
}

/**
 * A record as the store keeps it: `tokens` (as JSON) and `applicationToken` sealed (secret-box.ts).
 * Records an older version wrote hold them in plaintext; they are read as they are and sealed at
 * their next write.
 */
interface StoredPortalRecord extends Omit<PortalRecord, 'tokens' | 'applicationToken'> {
  tokens: string | PortalTokens | undefined;
  applicationToken: string | undefined;
}

/** Tokens counted per engine. */
export interface EngineUsage {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  lastUsedAt: number;
}

export type PortalUsage = Record<string, EngineUsage>;

const PORTAL_PREFIX = 'portal:';
const portalKey = (memberId: string) => `${PORTAL_PREFIX}${memberId}`;
const usageKey = (memberId: string) => `usage:${memberId}`;
/** The engine URL nonce of an install in progress (install-key.ts). */
export const installKey = (memberId: string) => `install:${memberId}`;

/**
 * Per-portal data in the keyv store; read-modify-writes of one portal run one after another. A
 * record whose secrets do not open (sealed with a key that is not configured) is a
 * SealedSecretError, never a record without them: a save would otherwise erase them.
 */
export class PortalStore {
  readonly store: B24Store;
  readonly #secrets: SecretBox;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(store: B24Store, secrets: SecretBox) {
    this.store = store;
    this.#secrets = secrets;
  }

  async get(memberId: string): Promise<PortalRecord | undefined> {
    const key = portalKey(memberId);
    const stored = await this.store.get<StoredPortalRecord>(key);
    if (stored == null) return undefined;
    const { tokens, applicationToken } = stored;
    return {
      ...stored,
      tokens:
        typeof tokens === 'string' ? (JSON.parse(this.#secrets.open(tokens, `${key} tokens`)) as PortalTokens) : tokens,
      applicationToken: SecretBox.isSealed(applicationToken)
        ? this.#secrets.open(applicationToken, `${key} applicationToken`)
        : applicationToken,
    };
  }

  async save(record: PortalRecord): Promise<void> {
    const key = portalKey(record.memberId);
    const { tokens, applicationToken } = record;
    const stored: StoredPortalRecord = {
      ...record,
      tokens: tokens === undefined ? undefined : this.#secrets.seal(JSON.stringify(tokens), `${key} tokens`),
      applicationToken:
        applicationToken === undefined ? undefined : this.#secrets.seal(applicationToken, `${key} applicationToken`),
      updatedAt: Date.now(),
    };
    await this.store.set(key, stored);
  }

  /**
   * Seals again, with the current key, every record whose secrets are in plaintext (written by an
   * older version) or sealed with an older key, so that key can be dropped (README, "Secrets at
   * rest"). A record that does not open is reported and left as it is. Returns how many were sealed.
   */
  async resealAll(report: (memberId: string, error: SealedSecretError) => void): Promise<number> {
    let resealed = 0;
    for (const key of await keysWithPrefix(this.store, PORTAL_PREFIX)) {
      const stored = await this.store.get<StoredPortalRecord>(key);
      const values = [stored?.tokens, stored?.applicationToken].filter((value) => value !== undefined);
      if (values.every((value) => this.#secrets.isSealedWithCurrentKey(value))) continue;
      const memberId = key.slice(PORTAL_PREFIX.length);
      try {
        await this.update(memberId, (record) => record);
        resealed += 1;
      } catch (error) {
        if (!(error instanceof SealedSecretError)) throw error;
        report(memberId, error);
      }
    }
    return resealed;
  }

  /** The portals with a pending uninstall (uninstall.ts), read without opening any record's secrets. */
  async pendingUninstalls(): Promise<Array<{ memberId: string; pending: UninstallPending }>> {
    const found: Array<{ memberId: string; pending: UninstallPending }> = [];
    for (const key of await keysWithPrefix(this.store, PORTAL_PREFIX)) {
      const pending = (await this.store.get<StoredPortalRecord>(key))?.uninstallPending;
      if (pending !== undefined) found.push({ memberId: key.slice(PORTAL_PREFIX.length), pending });
    }
    return found;
  }

  /** Changes one portal's record under its lock; returns the new record (undefined if there is none). */
  update(
    memberId: string,
    change: (record: PortalRecord) => PortalRecord | undefined,
  ): Promise<PortalRecord | undefined> {
    return this.withLock(memberId, async () => {
      const record = await this.get(memberId);
      if (record === undefined) return undefined;
      const changed = change(record);
      if (changed !== undefined) await this.save(changed);
      return changed ?? record;
    });
  }

  /** Adds one completion's tokens to the portal's usage of an engine (not for a portal uninstalled meanwhile). */
  addUsage(memberId: string, engineCode: string, tokens: { prompt: number; completion: number }): Promise<void> {
    return this.withLock(memberId, async () => {
      if ((await this.get(memberId)) === undefined) return;
      const usage = (await this.store.get<PortalUsage>(usageKey(memberId))) ?? {};
      const entry = usage[engineCode] ?? {
        requests: 0,
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        lastUsedAt: 0,
      };
      usage[engineCode] = {
        requests: entry.requests + 1,
        promptTokens: entry.promptTokens + tokens.prompt,
        completionTokens: entry.completionTokens + tokens.completion,
        totalTokens: entry.totalTokens + tokens.prompt + tokens.completion,
        lastUsedAt: Date.now(),
      };
      await this.store.set(usageKey(memberId), usage);
    });
  }

  async usage(memberId: string): Promise<PortalUsage> {
    return (await this.store.get<PortalUsage>(usageKey(memberId))) ?? {};
  }

  /** Deletes every piece of the portal's data: record, tokens, usage, jobs. Returns how many keys went. */
  async deleteAll(memberId: string): Promise<number> {
    return this.withLock(memberId, async () => {
      const keys = [
        portalKey(memberId),
        usageKey(memberId),
        installKey(memberId),
        ...(await keysWithPrefix(this.store, jobKeyPrefix(memberId))),
      ];
      let deleted = 0;
      for (const key of keys) if (await this.store.delete(key)) deleted += 1;
      return deleted;
    });
  }

  /** Runs `task` after every earlier task with the same key has finished. */
  withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.#locks.set(key, settled);
    void settled.then(() => {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    });
    return next;
  }
}
