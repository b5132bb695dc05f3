import type { OAuthTokenAnswer } from '../../../b24-app/install/oauth.ts';
import type { FakePortal } from './fake-portal.ts';

/*
 * Bitrix24's requests to the app, in their wire shapes (test/fixtures/bitrix24/SOURCES.md says
 * where each comes from). Tokens are the fake server's throwaway values.
 */

/** The events the app binds on every portal, in the order it binds them. */
export const APP_EVENTS = ['ONAPPINSTALL', 'ONAPPUPDATE', 'ONAPPUNINSTALL'];

/** The frame install page POST: query DOMAIN/PROTOCOL/LANG/APP_SID, form AUTH_ID, REFRESH_ID… (https://apidocs.bitrix24.com/settings/oauth/simple-way.html). */
export function frameInstallRequest(
  portal: FakePortal,
  tokens: OAuthTokenAnswer,
  options: { lang?: string; domain?: string; applicationToken?: string } = {},
): { query: string; body: URLSearchParams } {
  const query = new URLSearchParams({
    DOMAIN: options.domain ?? portal.domain,
    PROTOCOL: '1',
    LANG: options.lang ?? 'ru',
    APP_SID: 'testappsid0000000000000000000000',
  });
  const body = new URLSearchParams({
    AUTH_ID: tokens.access_token,
    AUTH_EXPIRES: '3600',
    REFRESH_ID: tokens.refresh_token,
    SERVER_ENDPOINT: tokens.server_endpoint,
    status: 'L',
    PLACEMENT: 'DEFAULT',
    PLACEMENT_OPTIONS: '{}',
    member_id: portal.memberId,
    APPLICATION_TOKEN: options.applicationToken ?? portal.applicationToken,
  });
  return { query: query.toString(), body };
}

/** The `auth[…]` block of ONAPPINSTALL, ONAPPUPDATE and the API-only install callback (https://apidocs.bitrix24.com/api-reference/common/events/on-app-install.html). */
function authFields(portal: FakePortal, tokens: OAuthTokenAnswer, applicationToken: string): Record<string, string> {
  return {
    'auth[access_token]': tokens.access_token,
    'auth[expires]': String(tokens.expires),
    'auth[expires_in]': '3600',
    'auth[scope]': tokens.scope,
    'auth[domain]': portal.domain,
    'auth[server_endpoint]': tokens.server_endpoint,
    'auth[status]': 'L',
    'auth[client_endpoint]': tokens.client_endpoint,
    'auth[member_id]': portal.memberId,
    'auth[user_id]': String(tokens.user_id),
    'auth[refresh_token]': tokens.refresh_token,
    'auth[application_token]': applicationToken,
  };
}

/** ONAPPINSTALL as the event queue posts it (also the API-only install callback's body). */
export function installEvent(
  portal: FakePortal,
  tokens: OAuthTokenAnswer,
  options: { applicationToken?: string } = {},
): URLSearchParams {
  return new URLSearchParams({
    event: 'ONAPPINSTALL',
    'data[VERSION]': String(portal.appVersion),
    'data[ACTIVE]': 'Y',
    'data[INSTALLED]': 'Y',
    'data[LANGUAGE_ID]': 'ru',
    ts: String(Math.floor(Date.now() / 1000)),
    ...authFields(portal, tokens, options.applicationToken ?? portal.applicationToken),
  });
}

/**
 * ONAPPUPDATE, after a new version is installed: the same form-encoded shape, with the previous
 * version and the updated application_token (b24restdocs api-reference/common/events/on-app-update.md).
 */
export function updateEvent(
  portal: FakePortal,
  tokens: OAuthTokenAnswer,
  options: { applicationToken?: string } = {},
): URLSearchParams {
  return new URLSearchParams({
    event: 'ONAPPUPDATE',
    'data[VERSION]': String(portal.appVersion),
    'data[PREVIOUS_VERSION]': String(portal.appVersion - 1),
    'data[LANGUAGE_ID]': 'ru',
    ts: String(Math.floor(Date.now() / 1000)),
    ...authFields(portal, tokens, options.applicationToken ?? portal.applicationToken),
  });
}

/** ONAPPUNINSTALL: no usable tokens, only the application_token to check. */
export function uninstallEvent(portal: FakePortal, applicationToken: string): URLSearchParams {
  return new URLSearchParams({
    event: 'ONAPPUNINSTALL',
    'data[LANGUAGE_ID]': 'ru',
    'data[CLEAN]': '1',
    ts: String(Math.floor(Date.now() / 1000)),
    'auth[domain]': portal.domain,
    'auth[server_endpoint]': 'https://oauth.bitrix.info/rest/',
    'auth[client_endpoint]': `${portal.origin}/rest/`,
    'auth[member_id]': portal.memberId,
    'auth[application_token]': applicationToken,
  });
}

/** POSTs a form the way Bitrix24 does. */
export function postForm(url: string, form: URLSearchParams): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
}
