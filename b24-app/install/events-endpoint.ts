import type { Context } from 'koa';
import type { B24Deps } from '../deps.ts';
import { answerBitrixError, readFormOrAnswer } from '../http/http-answers.ts';
import { type Form, field, formReader } from '../http/request-body.ts';
import { safeEqual } from '../portal/portal-key.ts';
import { installFromAuthForm } from './auth-form-install.ts';
import { confirmUninstall } from './uninstall.ts';

const readEventForm = formReader(256 * 1024);

/**
 * `POST /b24/events`: ONAPPINSTALL, ONAPPUPDATE and ONAPPUNINSTALL, form-encoded with bracket
 * nesting. An install or update is trusted only for an administrator's tokens (install.ts), an
 * uninstall only with the portal's `application_token` and the OAuth server's word (uninstall.ts). Any other event is answered 200 and ignored: Bitrix24 does not retry.
 */
export function eventsEndpoint(deps: B24Deps) {
  return async function handleEvent(ctx: Context): Promise<void> {
    const form = await readFormOrAnswer(ctx, readEventForm);
    if (form === undefined) return;
    const event = field(form, 'event')?.toUpperCase();
    if (event === 'ONAPPUNINSTALL') return uninstall(deps, ctx, form);
    if (event === 'ONAPPINSTALL' || event === 'ONAPPUPDATE') {
      const answer = await installFromAuthForm(deps, form, event === 'ONAPPINSTALL');
      ctx.status = answer.status;
      ctx.body = answer.body;
      return;
    }
    deps.logger.info(
      { event: (event ?? '').slice(0, 64), memberId: field(form, 'auth', 'member_id')?.slice(0, 64) },
      'Bitrix24: event ignored (not one the app handles)',
    );
    ctx.body = { result: true };
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
  // Answered 200 whatever the OAuth server says: Bitrix24 does not repeat events, and a forged
  // uninstall learns nothing from the answer.
  await confirmUninstall(deps, memberId);
  ctx.body = { result: true };
}
