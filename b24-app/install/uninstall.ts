import { SealedSecretError } from '../../gateway/lib/secrets/secret-box.ts';
import type { B24Deps } from '../deps.ts';
import type { PortalRecord } from '../portal/portal-store.ts';
import { OAuthError, oauthClientDigest, refreshTokens, tokensFromAnswer } from './oauth.ts';
import { assertSamePortal, RestError } from './rest-client.ts';

/*
 * ONAPPUNINSTALL carries no usable token, only the application_token, and every
 * frame POST hands that token to whichever employee opens the app. So a matching token alone
 * deletes nothing: the portal's stored refresh token goes to the trusted OAuth server too, which
 * refuses the tokens of an app that is no longer installed with `invalid_client` ("the application
 * may not be installed", b24restdocs settings/oauth/error-codes.md).
 *
 * - The refresh succeeds: the app is installed and the event was forged. The rotated tokens are
 *   saved; nothing is deleted.
 * - `invalid_client`: the app is gone. Everything stored about the portal is deleted. But a wrong
 *   B24_CLIENT_SECRET is refused the same way, so this counts only when the stored tokens were issued
 *   to the client now configured (or to an unknown one, in records older than that mark); after a
 *   change of B24_CLIENT_ID/B24_CLIENT_SECRET it is inconclusive.
 * - Anything else is inconclusive and deletes nothing: `invalid_grant` (the refresh token lapsed
 *   after 180 days unused — the engines never need it — or was spent elsewhere), an unreachable OAuth
 *   server, an answer that makes no sense. The record keeps an `uninstallPending` mark and the
 *   worker's sweep asks again every hour. A sign of life drops the mark: an engine call (Bitrix24
 *   deletes a removed app's engines) or a confirmed page session (it revokes a removed app's
 *   tokens). A mark left 30 days with neither a sign of life nor a conclusive answer counts as the
 *   uninstall: a portal that has the app uses its engines or opens the app within a month, while a
 *   real uninstall must end in deletion (the app directory checks it).
 */

const RECHECK_MS = 60 * 60_000;
const PENDING_GRACE_MS = 30 * 24 * 60 * 60_000;

type UninstallDeps = Pick<B24Deps, 'config' | 'logger' | 'portals' | 'rateLimit'>;

/** What the OAuth server says about the app on the portal. */
type AppState = { kind: 'installed' } | { kind: 'removed' } | { kind: 'unknown'; reason: string };

/** Refreshes the portal's stored tokens at the trusted OAuth server, under the portal's lock, to learn whether the app is installed. */
function askOAuthServer(deps: UninstallDeps, memberId: string): Promise<AppState> {
  return deps.portals.withLock(memberId, async (): Promise<AppState> => {
    const portal = await deps.portals.get(memberId);
    if (portal === undefined) return { kind: 'removed' };
    if (portal.tokens === undefined) return { kind: 'unknown', reason: 'no_tokens' };
    try {
      const answer = await refreshTokens(deps.config, portal.tokens.refreshToken, portal.serverEndpoint);
      assertSamePortal(answer, portal);
      await deps.portals.save({
        ...portal,
        tokens: tokensFromAnswer(answer, deps.config),
        uninstallPending: undefined,
      });
      return { kind: 'installed' };
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'invalid_client') {
        // A wrong B24_CLIENT_SECRET gets invalid_client too: only our own client's refusal proves the app is gone.
        const issuedTo = portal.tokens.issuedTo;
        if (issuedTo === undefined || issuedTo === oauthClientDigest(deps.config)) return { kind: 'removed' };
        return { kind: 'unknown', reason: 'invalid_client_for_other_keys' };
      }
      return {
        kind: 'unknown',
        reason: error instanceof OAuthError || error instanceof RestError ? error.code : 'failed',
      };
    }
  });
}

/**
 * Acts on an uninstall whose application_token matched (or on a pending one): deletes the portal's
 * data only when the OAuth server confirms the app is gone. Returns what it found.
 */
export async function confirmUninstall(deps: UninstallDeps, memberId: string): Promise<AppState['kind']> {
  const state = await askOAuthServer(deps, memberId);
  if (state.kind === 'removed') {
    await forgetPortal(deps, memberId);
    deps.logger.info({ memberId }, 'Bitrix24: app uninstalled (the OAuth server confirms it), portal data deleted');
  } else if (state.kind === 'installed') {
    deps.logger.warn(
      { memberId },
      'Bitrix24: uninstall not confirmed: the OAuth server still accepts the portal’s tokens, so the app is installed; nothing deleted',
    );
  } else {
    const now = Date.now();
    await deps.portals.update(memberId, (record) => ({
      ...record,
      uninstallPending: { since: record.uninstallPending?.since ?? now, reason: state.reason, checkedAt: now },
    }));
    deps.logger.warn(
      { memberId, reason: state.reason },
      'Bitrix24: uninstall not confirmed yet (the OAuth server’s answer is inconclusive); nothing deleted, asked again later',
    );
  }
  return state.kind;
}

/** The worker's sweep: asks again about pending uninstalls, and ends those pending too long. */
export async function sweepPendingUninstalls(deps: UninstallDeps, now = Date.now()): Promise<void> {
  for (const { memberId, pending } of await deps.portals.pendingUninstalls()) {
    if (now - pending.since > PENDING_GRACE_MS) {
      await forgetPortal(deps, memberId);
      deps.logger.warn(
        { memberId, reason: pending.reason },
        'Bitrix24: uninstall pending for 30 days without a sign of the app; portal data deleted',
      );
    } else if (now - pending.checkedAt >= RECHECK_MS) {
      // A record whose secrets do not open is reported at start (PortalStore.resealAll); the others go on.
      await confirmUninstall(deps, memberId).catch((error: unknown) => {
        if (!(error instanceof SealedSecretError)) throw error;
      });
    }
  }
}

/** A sign that the app is still installed on the portal (`what` says which) drops a pending uninstall. */
export async function dropPendingUninstall(deps: UninstallDeps, portal: PortalRecord, what: string): Promise<void> {
  if (portal.uninstallPending === undefined) return;
  await deps.portals.update(portal.memberId, (record) => ({ ...record, uninstallPending: undefined }));
  deps.logger.info(
    { memberId: portal.memberId, sign: what },
    'Bitrix24: the portal still has the app; pending uninstall dropped',
  );
}

async function forgetPortal(deps: UninstallDeps, memberId: string): Promise<void> {
  await deps.portals.deleteAll(memberId);
  deps.rateLimit.forget(memberId);
}
