import type { FakePortal } from './fake-portal.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The portal page around an app: an iframe named `DOMAIN|PROTOCOL|APP_SID` (what b24jssdk's
 * initializeB24Frame parses from window.name), filled by a form POST of AUTH_ID, member_id… to the
 * app's URL, and a postMessage bridge answering the frame commands (getInitData, resizeWindow,
 * setInstallFinish…) the way the portal's BX24 bridge does. Query: `auth`, `refresh`, `server`,
 * `lang`, `install` (1 = install mode), `path` (`app` or `install`), `member` (another member_id).
 */
export function fakeParentPage(portal: FakePortal, appBaseUrl: string, query: URLSearchParams): string {
  const appSid = 'testappsid0000000000000000000000';
  const lang = query.get('lang') ?? 'en';
  const install = query.get('install') === '1';
  const frameName = `${portal.domain}|1|${appSid}`;
  const action = `${appBaseUrl}/b24/${query.get('path') ?? 'app'}?${new URLSearchParams({ DOMAIN: portal.domain, PROTOCOL: '1', LANG: lang, APP_SID: appSid })}`;
  const fields: Record<string, string> = {
    AUTH_ID: query.get('auth') ?? '',
    AUTH_EXPIRES: '3600',
    REFRESH_ID: query.get('refresh') ?? '',
    SERVER_ENDPOINT: query.get('server') ?? '',
    member_id: query.get('member') ?? portal.memberId,
    status: 'L',
    PLACEMENT: 'DEFAULT',
    PLACEMENT_OPTIONS: '{}',
  };
  const initData = {
    DOMAIN: portal.domain,
    PROTOCOL: '1',
    PATH: '/marketplace/app/1/',
    LANG: lang,
    MEMBER_ID: portal.memberId,
    IS_ADMIN: true,
    AUTH_ID: fields.AUTH_ID,
    AUTH_EXPIRES: '3600',
    REFRESH_ID: fields.REFRESH_ID,
    APP_OPTIONS: {},
    USER_OPTIONS: {},
    PLACEMENT: 'DEFAULT',
    PLACEMENT_OPTIONS: {},
    INSTALL: install,
    FIRST_RUN: false,
  };
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Fake portal</title></head>
<body>
<form id="open" method="post" target="${escapeHtml(frameName)}" action="${escapeHtml(action)}">${inputs}</form>
<iframe name="${escapeHtml(frameName)}" id="app" width="1280" height="900"></iframe>
<script>
window.__commands = [];
const appOrigin = ${JSON.stringify(new URL(appBaseUrl).origin)};
const initData = ${JSON.stringify(initData)};
window.addEventListener('message', (event) => {
  if (event.origin !== appOrigin || typeof event.data !== 'string') return;
  const parts = event.data.split(':');
  const command = parts[0];
  const key = parts[parts.length - 2];
  window.__commands.push(command);
  const answer = command === 'getInitData' ? initData : {};
  event.source.postMessage(key + ':' + JSON.stringify(answer), event.origin);
});
document.getElementById('open').submit();
</script>
</body></html>`;
}
