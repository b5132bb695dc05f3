import type { Context } from 'koa';
import type { B24Deps } from './deps.ts';
import { answerBitrixError } from './http-answers.ts';
import { apiOnlyInstall } from './install-endpoint.ts';
import { safeEqual } from './portal-key.ts';
import { BodyError, type Form, field, parseForm, readText } from './request-body.ts';

const MAX_EVENT_BODY_BYTES = 256 * 1024;

/**
 * `POST /b24/events`: ONAPPINSTALL and ONAPPUNINSTALL, form-encoded with bracket nesting
 * (bitrix24.md §3.3). The uninstall is trusted only with the portal's `application_token`.
 */
export function eventsEndpoint(deps: B24Deps) {
  return async function handleEvent(ctx: Context): Promise<void> {
    let form: Form;
    try {
      form = parseForm(await readText(ctx, MAX_EVENT_BODY_BYTES));
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      return answerBitrixError(ctx, error.status, 'INVALID_REQUEST', error.message);
    }
    const event = field(form, 'event')?.toUpperCase();
    if (event === 'ONAPPUNINSTALL') return uninstall(deps, ctx, form);
    if (event === 'ONAPPINSTALL') return apiOnlyInstall(deps, ctx, form);
    answerBitrixError(
      ctx,
      400,
      'UNKNOWN_EVENT',
      `event: expected ONAPPINSTALL or ONAPPUNINSTALL, got "${event ?? ''}"`,
    );
  };
}

async function uninstall(deps: B24Deps, ctx: Context, form: Form): Promise<void> {
  const memberId = field(form, 'auth', 'member_id');
  const token = field(form, 'auth', 'application_token');
  if (memberId === undefined || token === undefined) {
    return answerBitrixError(ctx, 400, 'INVALID_REQUEST', 'auth[member_id] and auth[application_token] are required');
  }
  const portal = await deps.portals.get(memberId);
  if (portal === undefined) {
    ctx.body = { result: true };
    return;
  }
  if (portal.applicationToken === undefined || !safeEqual(token, portal.applicationToken)) {
    deps.logger.warn({ memberId }, 'Bitrix24: ONAPPUNINSTALL with a wrong application_token; nothing deleted');
    return answerBitrixError(ctx, 403, 'INVALID_APPLICATION_TOKEN', 'application_token does not match.');
  }
  const deleted = await deps.portals.deleteAll(memberId);
  deps.rateLimit.forget(memberId);
  deps.logger.info({ memberId, keys: deleted }, 'Bitrix24: app uninstalled, portal data deleted');
  ctx.body = { result: true };
}
