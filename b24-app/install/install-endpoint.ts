import type { Context } from 'koa';
import type { B24Deps } from '../deps.ts';
import { readFormOrAnswer } from '../http/http-answers.ts';
import { type Form, field, readFrameForm } from '../http/request-body.ts';
import { pageLanguage } from '../page/i18n.ts';
import { claimedOrigin, renderInstallPage, setPageHeaders } from '../page/render.ts';
import { hasAuthForm, installFromAuthForm } from './auth-form-install.ts';
import { installPortal } from './install.ts';
import { installFailure } from './install-failure.ts';

/**
 * `POST /b24/install`, the initial installation path, in both forms Bitrix24 uses: the frame
 * install page (`AUTH_ID`, `REFRESH_ID`, `member_id`, `DOMAIN`…; answers a page whose script calls
 * installFinish) and the API-only install callback (`auth[…]`; answers JSON).
 */
export function installEndpoint(deps: B24Deps) {
  return async function handleInstall(ctx: Context): Promise<void> {
    const form = await readFormOrAnswer(ctx, readFrameForm);
    if (form === undefined) return;
    if (hasAuthForm(form)) {
      const answer = await installFromAuthForm(deps, form, true);
      ctx.status = answer.status;
      ctx.body = answer.body;
      return;
    }
    return frameInstall(deps, ctx, form);
  };
}

async function frameInstall(deps: B24Deps, ctx: Context, form: Form): Promise<void> {
  const language = pageLanguage(field(form, 'LANG'));
  const memberId = field(form, 'member_id');
  const refreshToken = field(form, 'REFRESH_ID');
  const domain = field(form, 'DOMAIN');
  setPageHeaders(ctx, claimedOrigin(domain));
  if (memberId === undefined || refreshToken === undefined || domain === undefined) {
    ctx.status = 400;
    ctx.body = renderInstallPage({
      language,
      ok: false,
      engines: [],
      problem: 'member_id, REFRESH_ID and DOMAIN are required: open the installation from Bitrix24.',
    });
    return;
  }
  try {
    const { portal, sync } = await installPortal(deps, {
      memberId,
      domain,
      refreshToken,
      serverEndpoint: field(form, 'SERVER_ENDPOINT'),
      applicationToken: field(form, 'APPLICATION_TOKEN'),
      via: 'frame',
      newEngineUrls: true,
    });
    setPageHeaders(ctx, `https://${portal.domain}`);
    ctx.body = renderInstallPage({ language, ok: true, engines: sync.engines });
  } catch (error) {
    const failure = installFailure(deps, memberId, error);
    ctx.status = failure.status;
    ctx.body = renderInstallPage({ language, ok: false, engines: [], problem: `${failure.code}: ${failure.message}` });
  }
}
