import type { TypeB24 } from '@bitrix24/b24jssdk';
import { type B24Deps, publicUrl } from '../deps.ts';
import { newKeyNonce, portalKeyFor } from '../portal/portal-key.ts';
import type { PortalRecord, PortalTokens } from '../portal/portal-store.ts';
import { appCodeOf, isAdministrator, NotAdministratorError } from './app-identity.ts';
import { engineModels } from './engine-models.ts';
import { engineSpec, type SyncResult, syncEngines } from './engines.ts';
import { withInstallNonce } from './install-key.ts';
import { type ClaimedPortal, confirmPortal, tokensFromAnswer, trustedServerEndpoint } from './oauth.ts';
import { callRest, installerClient, portalClient, viewerClient } from './rest-client.ts';

/** The events the app binds, all to /b24/events. Bitrix24 drops them on every app update. */
const APP_EVENTS = ['ONAPPINSTALL', 'ONAPPUPDATE', 'ONAPPUNINSTALL'] as const;

export interface InstallResult {
  portal: PortalRecord;
  sync: SyncResult;
}

/** What an install request or event claims, and where it came from. */
export interface InstallClaim extends ClaimedPortal {
  applicationToken: string | undefined;
  /**
   * `frame`: the install page. Every employee who opens the app gets the portal's
   * APPLICATION_TOKEN in the frame POST, so a frame sets it only on a fresh install and never
   * replaces a stored one. `event`: ONAPPINSTALL, ONAPPUPDATE or the API-only install callback
   * (the form-encoded `auth[…]` shape): their token replaces the stored one.
   */
  via: 'frame' | 'event';
  /** An install gets new engine URLs; an app update keeps them. */
  newEngineUrls: boolean;
}

/**
 * Installs, re-installs or updates a portal from what an install form or event claims, while the
 * request is handled, so a failure reaches its answer and the log:
 * 1. the trusted OAuth server confirms the claimed tokens (spending the refresh token for a new set);
 * 2. `user.admin` with that fresh token: only an administrator installs, so an employee's tokens
 *    change nothing;
 * 3. `app.info` tells our app's CODE (the token is ours: our client_secret just refreshed it);
 * 4. events are bound and engines registered with the tokens in memory;
 * 5. only then is the portal record saved, once.
 */
export async function installPortal(deps: B24Deps, claim: InstallClaim): Promise<InstallResult> {
  const answer = await confirmPortal(deps.config, claim);
  const memberId = answer.member_id;
  return deps.portals.withLock(`installing:${memberId}`, async () => {
    const existing = await deps.portals.get(memberId);
    const installing: PortalRecord & { tokens: PortalTokens } = {
      memberId,
      kind: 'oauth',
      domain: new URL(answer.client_endpoint).host,
      clientEndpoint: answer.client_endpoint,
      serverEndpoint: trustedServerEndpoint(deps.config, answer.server_endpoint),
      tokens: tokensFromAnswer(answer, deps.config),
      applicationToken: undefined,
      engines: [],
      installedAt: Date.now(),
      updatedAt: Date.now(),
    };
    const b24 = installerClient(deps.config, installing);
    if (!(await isAdministrator(b24))) throw new NotAdministratorError();
    const appCode = await appCodeOf(b24);
    const keyNonce = rotatesEngineUrls(claim, existing) ? newKeyNonce() : (existing?.keyNonce as string);
    const sync = await withInstallNonce(deps.portals.store, memberId, keyNonce, async () => {
      await bindEvents(b24, publicUrl(deps.config, 'events'));
      return syncPortalEngines(deps, b24, memberId, keyNonce);
    });
    const saved = await deps.portals.withLock(memberId, async () => {
      const current = await deps.portals.get(memberId);
      const record: PortalRecord = {
        ...installing,
        applicationToken: applicationTokenFor(claim, current),
        engines: sync.engines,
        installedAt: current?.installedAt ?? installing.installedAt,
        appCode,
        keyNonce,
        keyNonceSince: keyNonce === current?.keyNonce ? current.keyNonceSince : Date.now(),
      };
      await deps.portals.save(record);
      return record;
    });
    deps.logger.info(
      { memberId, domain: saved.domain, registered: sync.registered, unregistered: sync.unregistered, kept: sync.kept },
      'Bitrix24: portal installed by an administrator, engines in place',
    );
    return { portal: saved, sync };
  });
}

/** How long after an install its ONAPPINSTALL keeps the engine URLs that install just made. */
const INSTALL_EVENT_WINDOW_MS = 15 * 60_000;

/**
 * An install gets new engine URLs, but not the ONAPPINSTALL Bitrix24 sends once the install page
 * has finished: the URLs are minutes old, and new ones would register every
 * engine a second time.
 */
function rotatesEngineUrls(claim: InstallClaim, existing: PortalRecord | undefined): boolean {
  if (existing?.keyNonce === undefined) return true;
  if (!claim.newEngineUrls) return false;
  const since = existing.keyNonceSince;
  return !(claim.via === 'event' && since !== undefined && Date.now() - since < INSTALL_EVENT_WINDOW_MS);
}

/** The application_token to keep: the claimed one on a fresh install or from an event, else the stored one. */
function applicationTokenFor(claim: InstallClaim, current: PortalRecord | undefined): string | undefined {
  if (current === undefined) return claim.applicationToken;
  if (claim.via === 'event' && claim.applicationToken !== undefined) return claim.applicationToken;
  return current.applicationToken;
}

/**
 * Binds the app's events and brings the portal's engines in line with the configured models, with
 * the stored tokens (the page's buttons). `newEngineUrls` rotates the engine URL secret: the engines
 * are registered again at the new URLs and the old ones stop answering.
 */
export async function registerEngines(
  deps: B24Deps,
  portal: PortalRecord,
  options: { newEngineUrls: boolean },
): Promise<InstallResult> {
  const { memberId } = portal;
  return deps.portals.withLock(`installing:${memberId}`, async () => {
    const b24 = portalClient(deps.config, deps.portals, portal, deps.logger);
    // Records from before the per-portal nonce get one the first time their engines are synced.
    const keyNonce = options.newEngineUrls || portal.keyNonce === undefined ? newKeyNonce() : portal.keyNonce;
    const sync = await withInstallNonce(deps.portals.store, memberId, keyNonce, async () => {
      await bindEvents(b24, publicUrl(deps.config, 'events'));
      return syncPortalEngines(deps, b24, memberId, keyNonce);
    });
    const saved = await deps.portals.update(memberId, (record) => ({
      ...record,
      engines: sync.engines,
      keyNonce,
      keyNonceSince: keyNonce === record.keyNonce ? record.keyNonceSince : Date.now(),
    }));
    deps.logger.info(
      {
        memberId,
        newEngineUrls: keyNonce !== portal.keyNonce,
        registered: sync.registered,
        unregistered: sync.unregistered,
        kept: sync.kept,
      },
      'Bitrix24: engines in place',
    );
    return { portal: saved ?? portal, sync };
  });
}

/**
 * Binds the events Bitrix24 dropped (an app update does), with an administrator's own frame
 * token: the stored installer tokens may belong to someone who is no longer an administrator.
 * Returns the events bound.
 */
export function bindMissingEvents(deps: B24Deps, portal: PortalRecord, accessToken: string): Promise<string[]> {
  return bindEvents(viewerClient(deps.config, portal, accessToken), publicUrl(deps.config, 'events'));
}

async function syncPortalEngines(deps: B24Deps, b24: TypeB24, memberId: string, keyNonce: string): Promise<SyncResult> {
  const models = await engineModels(deps.config.engineModels, deps.gateway);
  const base = publicUrl(deps.config, `engine/${portalKeyFor(deps.signingKey, memberId, keyNonce)}`);
  return syncEngines(
    b24,
    'app',
    models.map((model) => engineSpec(model, base)),
    models.map((model) => model.id),
  );
}

interface BoundEvent {
  event: string;
  handler: string;
}

/** Binds the app's events to our handler once, dropping handlers left from an old PUBLIC_URL; returns those bound. */
async function bindEvents(b24: TypeB24, handler: string): Promise<string[]> {
  const bound = await callRest<BoundEvent[]>(b24, 'event.get', {});
  const added: string[] = [];
  for (const event of APP_EVENTS) {
    const ours = (Array.isArray(bound) ? bound : []).filter((entry) => entry.event.toUpperCase() === event);
    for (const stale of ours.filter((entry) => entry.handler !== handler)) {
      await callRest(b24, 'event.unbind', { event, handler: stale.handler });
    }
    if (!ours.some((entry) => entry.handler === handler)) {
      await callRest(b24, 'event.bind', { event, handler });
      added.push(event);
    }
  }
  return added;
}
