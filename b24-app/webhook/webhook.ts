import { createHash } from 'node:crypto';
import type { B24Hook } from '@bitrix24/b24jssdk';
import type OpenAI from 'openai';
import type { B24Config } from '../config.ts';
import { publicUrl } from '../deps.ts';
import { engineModels } from '../install/engine-models.ts';
import { engineSpec, type ListedEngine, type SyncResult, syncEngines, unregisterAll } from '../install/engines.ts';
import { callRest } from '../install/rest-client.ts';
import { newKeyNonce, portalKeyFor } from '../portal/portal-key.ts';
import type { PortalRecord, PortalStore } from '../portal/portal-store.ts';

/*
 * Webhook mode, for portals that cannot install an app (how the older Bitrix24↔Gemini tutorial
 * worked): engines registered through an incoming webhook with ai_admin. Bitrix24 then sends the
 * engine `auth: null`, so the portal key in the URL is the only check.
 */

export interface WebhookDeps {
  config: B24Config;
  portals: PortalStore;
  signingKey: Buffer;
  gateway: OpenAI;
}

/**
 * The id a webhook portal is stored under. A webhook cannot read the portal's member_id, so it is
 * derived from the portal's address (`hook_` keeps it apart from real member_ids).
 */
export function webhookPortalId(origin: string): string {
  return `hook_${createHash('sha256').update(new URL(origin).host).digest('hex').slice(0, 32)}`;
}

/**
 * Checks the webhook, stores the portal (so the server answers the registration ping), then
 * registers its engines. The check is `ai.engine.list`, which needs the `ai_admin` scope the
 * engines need (`profile` needs none): a revoked webhook, or one without the scope, stores nothing.
 */
export async function registerWithWebhook(deps: WebhookDeps, hook: B24Hook): Promise<SyncResult> {
  await callRest(hook, 'ai.engine.list', {});
  const origin = hook.getTargetOrigin();
  const memberId = webhookPortalId(origin);
  const now = Date.now();
  const existing = await deps.portals.get(memberId);
  // Registering again keeps the engine URLs; a portal from before per-portal nonces gets one now.
  const keyNonce = existing?.keyNonce ?? newKeyNonce();
  const portal: PortalRecord = {
    memberId,
    kind: 'webhook',
    domain: new URL(origin).host,
    clientEndpoint: `${origin}/rest/`,
    serverEndpoint: '',
    tokens: undefined,
    applicationToken: undefined,
    engines: existing?.engines ?? [],
    installedAt: existing?.installedAt ?? now,
    updatedAt: now,
    keyNonce,
  };
  await deps.portals.save(portal);
  const models = await engineModels(deps.config.engineModels, deps.gateway);
  const base = publicUrl(deps.config, `engine/${portalKeyFor(deps.signingKey, memberId, keyNonce)}`);
  const sync = await syncEngines(
    hook,
    'webhook',
    models.map((model) => engineSpec(model, base)),
    models.map((model) => model.id),
  );
  await deps.portals.update(memberId, (record) => ({ ...record, engines: sync.engines }));
  return sync;
}

/** Every engine the webhook can see on the portal (ours and others'). */
export async function listWithWebhook(hook: B24Hook): Promise<ListedEngine[]> {
  const listed = await callRest<ListedEngine[]>(hook, 'ai.engine.list', {});
  return Array.isArray(listed) ? listed : [];
}

/** Removes our webhook engines from the portal and forgets the portal: its engine URLs stop answering. */
export async function unregisterWithWebhook(deps: Pick<WebhookDeps, 'portals'>, hook: B24Hook): Promise<string[]> {
  const removed = await unregisterAll(hook, 'webhook');
  await deps.portals.deleteAll(webhookPortalId(hook.getTargetOrigin()));
  return removed;
}

/** A completions_url with its portal key's secret part hidden, for printing. */
export function hideKey(url: string): string {
  return url.replace(/(\/b24\/engine\/[^/]+)\.[\w-]+\//, '$1.[secret]/');
}
