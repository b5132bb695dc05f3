import type { Context } from 'koa';
import type { B24Deps } from '../deps.ts';
import { normaliseHost } from '../oauth.ts';
import { BodyError, type Form, field, parseForm, readText } from '../request-body.ts';
import { confirmUser } from './confirm-user.ts';
import { pageLanguage, texts } from './i18n.ts';
import { renderAppPage, renderNoticePage, setPageHeaders } from './render.ts';
import { createPageSession } from './session.ts';

const MAX_FORM_BYTES = 64 * 1024;

/** Reads a frame POST (query `DOMAIN`, `LANG`…; body `AUTH_ID`, `member_id`…; bitrix24.md §3.2). */
export async function readFrameForm(ctx: Context): Promise<Form> {
  const form = ctx.method === 'POST' ? parseForm(await readText(ctx, MAX_FORM_BYTES)) : {};
  for (const [name, value] of Object.entries(ctx.query)) {
    if (typeof value === 'string' && form[name] === undefined) form[name] = value;
  }
  return form;
}

/** `https://<DOMAIN>` for a frame-ancestors source, from a claimed (unverified) DOMAIN; undefined if unusable. */
export function claimedOrigin(domain: string | undefined): string | undefined {
  if (domain === undefined || !/^[\w.-]+(:\d+)?$/.test(domain)) return undefined;
  return `https://${normaliseHost(domain)}`;
}

/**
 * `GET`/`POST /b24/app`, the handler path: Bitrix24 opens it in a frame with a POST. The viewer's
 * AUTH_ID is confirmed with the portal, then the page gets a signed session for its own calls.
 */
export function appPage(deps: B24Deps) {
  return async function showAppPage(ctx: Context): Promise<void> {
    let form: Form;
    try {
      form = await readFrameForm(ctx);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      ctx.status = error.status;
      ctx.body = error.message;
      return;
    }
    const language = pageLanguage(field(form, 'LANG'));
    const t = texts(language);
    const memberId = field(form, 'member_id');
    const accessToken = field(form, 'AUTH_ID');
    if (memberId === undefined || accessToken === undefined) {
      setPageHeaders(ctx, undefined);
      ctx.status = 400;
      ctx.body = renderNoticePage(language, t.title, t.openFromPortal);
      return;
    }
    const portal = await deps.portals.get(memberId);
    if (portal === undefined || portal.kind !== 'oauth') {
      setPageHeaders(ctx, claimedOrigin(field(form, 'DOMAIN')));
      ctx.status = 404;
      ctx.body = renderNoticePage(language, t.notInstalledTitle, t.notInstalledText);
      return;
    }
    setPageHeaders(ctx, `https://${portal.domain}`);
    let user: Awaited<ReturnType<typeof confirmUser>>;
    try {
      user = await confirmUser(deps.config, portal, accessToken);
    } catch (error) {
      deps.logger.warn({ memberId, problem: (error as Error).message }, 'Bitrix24: app page session not confirmed');
      ctx.status = 401;
      ctx.body = renderNoticePage(language, t.title, t.sessionFailed);
      return;
    }
    ctx.body = renderAppPage({
      language,
      session: createPageSession(deps.signingKey, { memberId, userId: user.id, isAdmin: user.isAdmin }),
      isAdmin: user.isAdmin,
      engines: portal.engines,
      usage: await deps.portals.usage(memberId),
    });
  };
}
