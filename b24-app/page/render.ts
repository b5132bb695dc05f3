import type { Context } from 'koa';
import { normaliseHost } from '../install/oauth.ts';
import type { EngineRecord, PortalUsage } from '../portal/portal-store.ts';
import { type PageLanguage, texts } from './i18n.ts';

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** `https://<DOMAIN>` for a frame-ancestors source, from a claimed (unverified) DOMAIN; undefined if unusable. */
export function claimedOrigin(domain: string | undefined): string | undefined {
  if (domain === undefined || !/^[\w.-]+(:\d+)?$/.test(domain)) return undefined;
  return `https://${normaliseHost(domain)}`;
}

/**
 * Headers of every page: served only inside the portal's own frame (`frame-ancestors`; no
 * X-Frame-Options, whose ALLOW-FROM browsers dropped), and scripts and styles only from us.
 */
export function setPageHeaders(ctx: Context, portalOrigin: string | undefined): void {
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('cache-control', 'no-store');
  ctx.set('referrer-policy', 'no-referrer');
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set(
    'content-security-policy',
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      `frame-ancestors ${portalOrigin ?? "'none'"}`,
    ].join('; '),
  );
}

function page(language: PageLanguage, title: string, body: string, scripts: readonly string[]): string {
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/app.css">
</head>
<body>
<main class="app">
${body}
</main>
${scripts.map((script) => `<script src="assets/${script}"></script>`).join('\n')}
</body>
</html>
`;
}

/** Data for a page script, inert (`application/json`) and safe against `</script>` in values. */
function pageData(id: string, data: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`;
}

function engineRows(engines: readonly EngineRecord[], usage: PortalUsage): string {
  return engines
    .map((engine) => {
      const used = usage[engine.code];
      return `<tr data-code="${escapeHtml(engine.code)}"><td>${escapeHtml(engine.name)}</td><td><code>${escapeHtml(engine.model)}</code></td><td class="num">${used?.requests ?? 0}</td><td class="num">${used?.totalTokens ?? 0}</td></tr>`;
    })
    .join('\n');
}

function enginesTable(language: PageLanguage, engines: readonly EngineRecord[], usage: PortalUsage): string {
  const t = texts(language);
  return `<table class="engines" id="engines">
<thead><tr><th>${t.engine}</th><th>${t.model}</th><th class="num">${t.requests}</th><th class="num">${t.tokens}</th></tr></thead>
<tbody>${engineRows(engines, usage)}</tbody>
</table>
<p class="empty${engines.length === 0 ? '' : ' hidden'}" id="no-engines">${t.noEngines}</p>`;
}

export interface AppPageData {
  language: PageLanguage;
  session: string;
  isAdmin: boolean;
  engines: readonly EngineRecord[];
  usage: PortalUsage;
}

/** The app's page inside the portal: engines and models, usage, re-register, new engine URLs, try a prompt. */
export function renderAppPage(data: AppPageData): string {
  const t = texts(data.language);
  const options = data.engines
    .map((engine) => `<option value="${escapeHtml(engine.code)}">${escapeHtml(engine.name)}</option>`)
    .join('');
  const body = `<h1 class="app-title">${t.title}</h1>
<section class="card">
<h2>${t.engines}</h2>
${enginesTable(data.language, data.engines, data.usage)}
<div class="actions">
<button type="button" class="ui-btn ui-btn-primary" id="reregister"${data.isAdmin ? '' : ' disabled'}>${t.reregister}</button>
<span class="hint">${data.isAdmin ? t.reregisterHint : t.adminOnly}</span>
</div>
<p class="status" id="reregister-status" role="status"></p>
<div class="actions">
<button type="button" class="ui-btn ui-btn-light" id="rotate"${data.isAdmin ? '' : ' disabled'}>${t.rotate}</button>
<span class="hint">${data.isAdmin ? t.rotateHint : t.adminOnly}</span>
</div>
<p class="status" id="rotate-status" role="status"></p>
</section>
<section class="card">
<h2>${t.tryTitle}</h2>
<form id="try-form" class="try">
<label>${t.engine}<select name="engine" id="try-engine">${options}</select></label>
<label>${t.prompt}<textarea name="prompt" id="try-prompt" rows="3" placeholder="${escapeHtml(t.promptPlaceholder)}" required></textarea></label>
<div class="actions"><button type="submit" class="ui-btn ui-btn-success" id="try-send">${t.send}</button></div>
</form>
<p class="status" id="try-status" role="status"></p>
<div class="answer hidden" id="try-answer"><h3>${t.answer}</h3><pre id="try-answer-text"></pre></div>
</section>
<p class="hint">${t.howToChoose}</p>
${pageData('app-data', { session: data.session, texts: { done: t.done, working: t.working, rotated: t.rotated } })}`;
  return page(data.language, t.title, body, ['b24jssdk.js', 'app.js']);
}

export interface InstallPageData {
  language: PageLanguage;
  ok: boolean;
  engines: readonly EngineRecord[];
  /** The failure to show when `ok` is false. */
  problem?: string;
}

/** The installation page: the server already did the work; its script only calls installFinish. */
export function renderInstallPage(data: InstallPageData): string {
  const t = texts(data.language);
  const body = data.ok
    ? `<h1 class="app-title">${t.installedTitle}</h1>
<section class="card">
<p>${t.installedText}</p>
${enginesTable(data.language, data.engines, {})}
<p class="hint">${t.howToChoose}</p>
</section>
${pageData('install-data', { ok: true })}`
    : `<h1 class="app-title">${t.installFailedTitle}</h1>
<section class="card error">
<p>${t.installFailedText}</p>
<p><code id="install-problem">${escapeHtml(data.problem ?? '')}</code></p>
</section>
${pageData('install-data', { ok: false })}`;
  return page(data.language, t.title, body, ['b24jssdk.js', 'install.js']);
}

/** A page that only says something (not installed, opened outside Bitrix24, session not confirmed). */
export function renderNoticePage(language: PageLanguage, title: string, text: string): string {
  return page(
    language,
    title,
    `<h1 class="app-title">${escapeHtml(title)}</h1>\n<section class="card"><p>${escapeHtml(text)}</p></section>`,
    [],
  );
}
