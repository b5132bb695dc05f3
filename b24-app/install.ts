import type { TypeB24 } from '@bitrix24/b24jssdk';
import { type B24Deps, publicUrl } from './deps.ts';
import { engineSpec, type SyncResult, syncEngines } from './engines.ts';
import { engineModels } from './gateway-client.ts';
import { type ClaimedPortal, confirmPortal, tokensFromAnswer, trustedServerEndpoint } from './oauth.ts';
import { portalKeyFor } from './portal-key.ts';
import type { PortalRecord } from './portal-store.ts';
import { callRest, portalClient } from './rest-client.ts';

/** The events the app binds; both post to /b24/events. */
const APP_EVENTS = ['ONAPPINSTALL', 'ONAPPUNINSTALL'] as const;

export interface InstallResult {
  portal: PortalRecord;
  sync: SyncResult;
}

/**
 * Installs (or re-installs) a portal from what an install form or ONAPPINSTALL claims: the trusted
 * OAuth server confirms the tokens, the portal is stored, events are bound and the engines are
 * registered, all while the request is being handled, so a failure reaches its answer and the log.
 */
export async function installPortal(
  deps: B24Deps,
  claimed: ClaimedPortal & { applicationToken: string | undefined },
): Promise<InstallResult> {
  const answer = await confirmPortal(deps.config, claimed);
  const existing = await deps.portals.get(answer.member_id);
  const now = Date.now();
  const portal: PortalRecord = {
    memberId: answer.member_id,
    kind: 'oauth',
    domain: new URL(answer.client_endpoint).host,
    clientEndpoint: answer.client_endpoint,
    serverEndpoint: trustedServerEndpoint(deps.config, answer.server_endpoint),
    tokens: tokensFromAnswer(answer),
    applicationToken: claimed.applicationToken ?? existing?.applicationToken,
    engines: existing?.engines ?? [],
    installedAt: existing?.installedAt ?? now,
    updatedAt: now,
  };
  await deps.portals.save(portal);
  deps.logger.info({ memberId: portal.memberId, domain: portal.domain }, 'Bitrix24: portal confirmed and saved');
  return registerEngines(deps, portal);
}

/** Binds the app's events and brings the portal's engines in line with the configured models. */
export async function registerEngines(deps: B24Deps, portal: PortalRecord): Promise<InstallResult> {
  const b24 = portalClient(deps.config, deps.portals, portal, deps.logger);
  await bindEvents(b24, publicUrl(deps.config, 'events'));
  const models = await engineModels(deps.config.engineModels, deps.gateway);
  const base = publicUrl(deps.config, `engine/${portalKeyFor(deps.signingKey, portal.memberId)}`);
  const sync = await syncEngines(
    b24,
    'app',
    models.map((model) => engineSpec(model, base)),
    models,
  );
  const saved = await deps.portals.update(portal.memberId, (record) => ({ ...record, engines: sync.engines }));
  deps.logger.info(
    { memberId: portal.memberId, registered: sync.registered, unregistered: sync.unregistered, kept: sync.kept },
    'Bitrix24: engines in place',
  );
  return { portal: saved ?? portal, sync };
}

interface BoundEvent {
  event: string;
  handler: string;
}

/** Binds ONAPPINSTALL/ONAPPUNINSTALL to our handler once, dropping handlers left from an old PUBLIC_URL. */
async function bindEvents(b24: TypeB24, handler: string): Promise<void> {
  const bound = await callRest<BoundEvent[]>(b24, 'event.get', {});
  for (const event of APP_EVENTS) {
    const ours = (Array.isArray(bound) ? bound : []).filter((entry) => entry.event.toUpperCase() === event);
    for (const stale of ours.filter((entry) => entry.handler !== handler)) {
      await callRest(b24, 'event.unbind', { event, handler: stale.handler });
    }
    if (!ours.some((entry) => entry.handler === handler)) await callRest(b24, 'event.bind', { event, handler });
  }
}
