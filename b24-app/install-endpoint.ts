import type { Context } from 'koa';
import type { B24Deps } from './deps.ts';
import { answerBitrixError } from './http-answers.ts';
import { installPortal } from './install.ts';
import { installFailure } from './install-failure.ts';
import { claimedOrigin, readFrameForm } from './page/app-page.ts';
import { pageLanguage } from './page/i18n.ts';
import { renderInstallPage, setPageHeaders } from './page/render.ts';
import { BodyError, type Form, field } from './request-body.ts';

/**
 * `POST /b24/install`, the initial installation path, in both forms Bitrix24 uses (bitrix24.md
 * §3.1): the frame install page (`AUTH_ID`, `REFRESH_ID`, `member_id`, `DOMAIN`…; answers a page
 * whose script calls installFinish) and the API-only install callback (`auth[…]`; answers JSON).
 */
export function installEndpoint(deps: B24Deps) {
  return async function handleInstall(ctx: Context): Promise<void> {
    let form: Form;
    try {
      form = await readFrameForm(ctx);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      return answerBitrixError(ctx, error.status, 'INVALID_REQUEST', error.message);
    }
    if (typeof form.auth === 'object' && !Array.isArray(form.auth)) return apiOnlyInstall(deps, ctx, form, true);
    return frameInstall(deps, ctx, form);
  };
}

/**
 * An install that carries its tokens as form-encoded `auth[…]`: the API-only install and the
 * ONAPPINSTALL and ONAPPUPDATE events have the same shape and are answered alike. An update
 * (`newEngineUrls` false) keeps the engine URLs.
 */
export async function apiOnlyInstall(deps: B24Deps, ctx: Context, form: Form, newEngineUrls: boolean): Promise<void> {
  const memberId = field(form, 'auth', 'member_id');
  const refreshToken = field(form, 'auth', 'refresh_token');
  if (memberId === undefined || refreshToken === undefined) {
    return answerBitrixError(ctx, 400, 'INVALID_REQUEST', 'auth[member_id] and auth[refresh_token] are required');
  }
  try {
    const { sync } = await installPortal(deps, {
      memberId,
      domain: field(form, 'auth', 'domain'),
      refreshToken,
      serverEndpoint: field(form, 'auth', 'server_endpoint'),
      applicationToken: field(form, 'auth', 'application_token'),
      via: 'event',
      newEngineUrls,
    });
    ctx.body = { result: true, engines: sync.engines.map((engine) => engine.code) };
  } catch (error) {
    const failure = installFailure(deps, memberId, error);
    answerBitrixError(ctx, failure.status, failure.code, failure.message);
  }
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
