import type { Context } from 'koa';
import { isPortalCallbackUrl } from './callbacks.ts';
import type { B24Deps } from './deps.ts';
import { parseEngineRequest } from './engine-request.ts';
import { answerBitrixError, hidePortalKey } from './http-answers.ts';
import type { Job } from './jobs.ts';
import { memberIdFromPortalKey } from './portal-key.ts';
import type { PortalRecord } from './portal-store.ts';
import { BodyError, readText } from './request-body.ts';

/** Bitrix24 sends the whole trimmed context; leave room for long chats. */
const MAX_ENGINE_BODY_BYTES = 8 * 1024 * 1024;

/**
 * `completions_url` (bitrix24.md §2): GET/HEAD → 200 for a known portal (Bitrix24 checks this at
 * registration); POST → check the portal key, parse and store the job, answer 202 at once — the
 * portal waits only 5 s and takes nothing but 202 — and let the worker answer by callback.
 */
export function engineEndpoint(deps: B24Deps) {
  return async function handleEngineRequest(ctx: Context): Promise<void> {
    const portalKey = String(ctx.params.key);
    const code = String(ctx.params.code);
    hidePortalKey(ctx, portalKey);
    const memberId = memberIdFromPortalKey(deps.signingKey, portalKey);
    const portal = memberId === undefined ? undefined : await deps.portals.get(memberId);
    if (memberId === undefined) {
      if (ctx.method === 'POST') ctx.req.resume();
      deps.logger.warn({ path: ctx.path }, 'Bitrix24: engine request with a forged portal key');
      return answerBitrixError(ctx, 403, 'INVALID_PORTAL_KEY', 'This engine URL is not valid.');
    }
    if (portal === undefined) {
      if (ctx.method === 'POST') ctx.req.resume();
      return answerBitrixError(ctx, 404, 'PORTAL_NOT_INSTALLED', 'The app is not installed on this portal.');
    }
    if (ctx.method !== 'POST') {
      ctx.status = 200;
      ctx.body = { status: 'ok' };
      return;
    }
    try {
      await acceptJob(deps, ctx, portal, code);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      deps.logger.warn({ memberId, engine: code, problem: error.message }, 'Bitrix24: engine request refused');
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
  const text = await readText(ctx, MAX_ENGINE_BODY_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BodyError(400, 'the body is not valid JSON');
  }
  const request = parseEngineRequest(body);
  if (request.authMemberId !== undefined && request.authMemberId !== portal.memberId) {
    return answerBitrixError(ctx, 403, 'PORTAL_MISMATCH', 'auth.member_id is not the portal this URL belongs to.');
  }
  for (const name of ['callbackUrl', 'errorCallbackUrl'] as const) {
    if (!isPortalCallbackUrl(request[name], portal.domain)) {
      throw new BodyError(400, `${name}: must be an https URL on the portal's own host (${portal.domain})`, name);
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
