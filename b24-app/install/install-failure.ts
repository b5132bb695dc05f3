import type { B24Deps } from '../deps.ts';
import { NotAdministratorError } from './app-identity.ts';
import { OAuthError } from './oauth.ts';
import { RestError } from './rest-client.ts';

export interface InstallFailure {
  status: number;
  code: string;
  /** Safe to show: names the step and Bitrix24's error code, never a token. */
  message: string;
}

/** Classifies and logs an install or re-register failure. */
export function installFailure(deps: B24Deps, memberId: string, error: unknown): InstallFailure {
  let failure: InstallFailure;
  if (error instanceof NotAdministratorError) {
    failure = {
      status: 403,
      code: 'ACCESS_DENIED',
      message: 'Only a portal administrator can install or update the app; nothing was changed.',
    };
  } else if (error instanceof OAuthError) {
    failure = {
      status: ['unreachable', 'bad_answer', 'not_configured'].includes(error.code) ? 502 : 403,
      code: 'OAUTH_FAILED',
      message: `The Bitrix24 OAuth server did not confirm the portal (${error.message}).`,
    };
  } else if (error instanceof RestError) {
    const admin = ['ACCESS_DENIED', 'insufficient_scope', 'INSUFFICIENT_SCOPE'].includes(error.code);
    failure = {
      status: admin ? 403 : 502,
      code: error.code,
      message: admin
        ? `Bitrix24 refused ${error.method}: registering CoPilot engines needs the ai_admin scope and a portal administrator (${error.code}).`
        : `Bitrix24 refused ${error.method}: ${error.message}`,
    };
  } else {
    failure = { status: 502, code: 'INSTALL_FAILED', message: (error as Error).message };
  }
  deps.logger.error({ memberId, code: failure.code, problem: failure.message }, 'Bitrix24: install failed');
  return failure;
}
