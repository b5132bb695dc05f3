import type { Context } from 'koa';
import type { B24Deps } from '../deps.ts';
import { answerBitrixError } from '../http/http-answers.ts';
import { BodyError, jsonReader } from '../http/request-body.ts';
import { installNonce } from '../install/install-key.ts';
import { dropPendingUninstall } from '../install/uninstall.ts';
import { claimedMemberId, portalKeyMatches } from '../portal/portal-key.ts';
import type { PortalRecord } from '../portal/portal-store.ts';
import { CALLBACK_ACTIONS, isPortalCallbackUrl } from './callbacks.ts';
import { parseEngineRequest } from './engine-request.ts';
import type { Job } from './jobs.ts';

/** Bitrix24 sends the whole trimmed context; leave room for long chats. */
const readEngineBody = jsonReader(8 * 1024 * 1024);

/** What a portal key opens: the portal, or why not. */
type KeyCheck = { kind: 'portal'; portal: PortalRecord } | { kind: 'installing' } | { kind: 'forged' | 'unknown' };

/**
 * The portal a key belongs to. The key must be the one made with the record's nonce, or with the
 * nonce of an install in progress (install-key.ts): the registration ping comes before the record
 * is saved, and a rotation's new URLs answer as soon as they are registered.
 */
async function checkPortalKey(deps: B24Deps, portalKey: string): Promise<KeyCheck> {
  const memberId = claimedMemberId(portalKey);
  if (memberId === undefined) return { kind: 'forged' };
  const portal = await deps.portals.get(memberId);
  if (portal !== undefined && portalKeyMatches(deps.signingKey, portalKey, memberId, portal.keyNonce)) {
    return { kind: 'portal', portal };
  }
  const installing = await installNonce(deps.portals.store, memberId);
  if (installing !== undefined && portalKeyMatches(deps.signingKey, portalKey, memberId, installing)) {
    return portal === undefined ? { kind: 'installing' } : { kind: 'portal', portal };
  }
  return { kind: portal === undefined ? 'unknown' : 'forged' };
}

/**
 * `completions_url` (https://apidocs.bitrix24.com/api-reference/ai/ai-engine-register.html): GET/HEAD → 200 for a known portal (Bitrix24 checks this at
 * registration); POST → check the portal key, parse and store the job, answer 202 at once — the
 * portal waits only 5 s and takes nothing but 202 — and let the worker answer by callback. The
 * gateway's access log hides the key's secret part (gateway/http/middleware/access-log.ts).
 */
export function engineEndpoint(deps: B24Deps) {
  return async function handleEngineRequest(ctx: Context): Promise<void> {
    const code = String(ctx.params.code);
    const check = await checkPortalKey(deps, String(ctx.params.key));
    if (check.kind === 'installing' && ctx.method !== 'POST') {
      ctx.status = 200;
      ctx.body = { status: 'ok' };
      return;
    }
    if (check.kind !== 'portal') {
      if (ctx.method === 'POST') ctx.req.resume();
      if (check.kind === 'forged') {
        deps.logger.warn({ engine: code.slice(0, 100) }, 'Bitrix24: engine request with a forged portal key');
        return answerBitrixError(ctx, 403, 'INVALID_PORTAL_KEY', 'This engine URL is not valid.');
      }
      return answerBitrixError(ctx, 404, 'PORTAL_NOT_INSTALLED', 'The app is not installed on this portal.');
    }
    const { portal } = check;
    // Bitrix24 deletes a removed app's engines, so a call on one means the app is still installed.
    await dropPendingUninstall(deps, portal, 'engine call');
    if (ctx.method !== 'POST') {
      ctx.status = 200;
      ctx.body = { status: 'ok' };
      return;
    }
    try {
      await acceptJob(deps, ctx, portal, code);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      deps.logger.warn(
        { memberId: portal.memberId, engine: code, problem: error.message },
        'Bitrix24: engine request refused',
      );
      answerBitrixError(
        ctx,
        error.status,
        error.status === 413 ? 'REQUEST_TOO_LARGE' : 'INVALID_REQUEST',
        error.message,
      );
    }
  };
}

async function acceptJob(deps: B24Deps, ctx: Context, portal: PortalRecord, code: string): Promise<void> {
  const engine = portal.engines.find((candidate) => candidate.code === code);
  if (engine === undefined) {
    ctx.req.resume();
    return answerBitrixError(ctx, 404, 'ENGINE_NOT_FOUND', `No engine "${code}" is registered for this portal.`);
  }
  const wait = deps.rateLimit.take(portal.memberId);
  if (wait > 0) {
    ctx.req.resume();
    ctx.set('retry-after', String(wait));
    deps.logger.warn({ memberId: portal.memberId, engine: code }, 'Bitrix24: portal over its rate limit');
    return answerBitrixError(ctx, 429, 'RATE_LIMITED', `Too many requests from this portal; retry in ${wait} s.`);
  }
  const request = parseEngineRequest(await readEngineBody(ctx));
  if (request.authMemberId !== undefined && request.authMemberId !== portal.memberId) {
    return answerBitrixError(ctx, 403, 'PORTAL_MISMATCH', 'auth.member_id is not the portal this URL belongs to.');
  }
  for (const [name, kind] of [
    ['callbackUrl', 'success'],
    ['errorCallbackUrl', 'error'],
  ] as const) {
    if (!isPortalCallbackUrl(request[name], portal.domain, kind)) {
      throw new BodyError(
        400,
        `${name}: must be Bitrix24's callback on the portal, https://${portal.domain}/bitrix/services/main/ajax.php?action=${CALLBACK_ACTIONS[kind]}&hash=…`,
        name,
      );
    }
  }
  const now = Date.now();
  const job: Job = {
    id: request.hash,
    memberId: portal.memberId,
    engineCode: engine.code,
    model: engine.model,
    state: 'queued',
    request,
    result: undefined,
    error: undefined,
    attempts: 0,
    receivedAt: now,
    deadline: now + request.ttlSeconds * 1000,
    nextAttemptAt: now,
    outcome: undefined,
  };
  const created = await deps.jobs.create(job);
  ctx.status = 202;
  ctx.body = { result: 'OK' };
  if (created) {
    deps.logger.info({ memberId: portal.memberId, engine: code, job: job.id }, 'Bitrix24: job accepted');
    deps.countJob('queued');
    deps.worker.enqueue(job);
  } else {
    deps.logger.info({ memberId: portal.memberId, job: job.id }, 'Bitrix24: repeated job, already accepted');
  }
}
