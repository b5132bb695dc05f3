import type { B24Deps } from '../deps.ts';
import { type Form, field } from '../http/request-body.ts';
import { installPortal } from './install.ts';
import { installFailure } from './install-failure.ts';

/** What to answer Bitrix24: a status and its JSON body (REST's error shape when it failed). */
export interface BitrixAnswer {
  status: number;
  body: { result: true; engines: string[] } | { error: string; error_description: string };
}

/** True when the form carries its tokens as `auth[…]` (the API-only install and the app's events). */
export function hasAuthForm(form: Form): boolean {
  return typeof form.auth === 'object' && !Array.isArray(form.auth);
}

/**
 * An install that carries its tokens as form-encoded `auth[…]`: the API-only install and the
 * ONAPPINSTALL and ONAPPUPDATE events have the same shape and are answered alike. An update
 * (`newEngineUrls` false) keeps the engine URLs.
 */
export async function installFromAuthForm(deps: B24Deps, form: Form, newEngineUrls: boolean): Promise<BitrixAnswer> {
  const memberId = field(form, 'auth', 'member_id');
  const refreshToken = field(form, 'auth', 'refresh_token');
  if (memberId === undefined || refreshToken === undefined) {
    return refusal(400, 'INVALID_REQUEST', 'auth[member_id] and auth[refresh_token] are required');
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
    return { status: 200, body: { result: true, engines: sync.engines.map((engine) => engine.code) } };
  } catch (error) {
    const failure = installFailure(deps, memberId, error);
    return refusal(failure.status, failure.code, failure.message);
  }
}

function refusal(status: number, error: string, description: string): BitrixAnswer {
  return { status, body: { error, error_description: description } };
}
