import type { Context } from 'koa';
import type { B24Deps } from '../deps.ts';
import { BodyError, type Form, field, readFrameForm } from '../http/request-body.ts';
import { bindMissingEvents } from '../install/install.ts';
import { dropPendingUninstall } from '../install/uninstall.ts';
import type { PortalRecord } from '../portal/portal-store.ts';
import { confirmUser, type PortalUser } from './confirm-user.ts';
import { pageLanguage, texts } from './i18n.ts';
import { claimedOrigin, renderAppPage, renderNoticePage, setPageHeaders } from './render.ts';
import { createPageSession } from './session.ts';

/**
 * `GET`/`POST /b24/app`, the handler path: Bitrix24 opens it in a frame with a POST. The viewer's
 * AUTH_ID is confirmed with the portal, then the page gets a signed session for its own calls.
 * An administrator's visit also binds the app's events again where Bitrix24 dropped them.
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
    await afterConfirmedVisit(deps, portal, user, accessToken);
    ctx.body = renderAppPage({
      language,
      session: createPageSession(deps.signingKey, { memberId, userId: user.id, isAdmin: user.isAdmin }),
      isAdmin: user.isAdmin,
      engines: portal.engines,
      usage: await deps.portals.usage(memberId),
    });
  };
}

/**
 * What a confirmed visit tells: the app is installed (a removed app's tokens are revoked), and a
 * record from before app codes were kept learns ours. An administrator's own token then binds the
 * events an app update dropped; a failure there does not keep the page from opening.
 */
async function afterConfirmedVisit(
  deps: B24Deps,
  portal: PortalRecord,
  user: PortalUser,
  accessToken: string,
): Promise<void> {
  await dropPendingUninstall(deps, portal, 'app page opened');
  if (portal.appCode === undefined) {
    await deps.portals.update(portal.memberId, (record) => ({ ...record, appCode: user.appCode }));
  }
  if (!user.isAdmin) return;
  try {
    const bound = await bindMissingEvents(deps, portal, accessToken);
    if (bound.length > 0) {
      deps.logger.info({ memberId: portal.memberId, events: bound }, 'Bitrix24: missing event handlers bound again');
    }
  } catch (error) {
    deps.logger.warn(
      { memberId: portal.memberId, problem: (error as Error).message },
      'Bitrix24: could not check the event handlers',
    );
  }
}
