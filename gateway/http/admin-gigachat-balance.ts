import type { Config } from '../config.ts';
import { ServiceUnavailableError, toGatewayError } from '../openai/errors.ts';
import { type BalanceItem, reportsBalance } from '../providers/provider.ts';
import type { Accounts } from '../routing/accounts.ts';
import type { GatewayMiddleware } from './state.ts';

/** One credential's line of `GET /admin/gigachat/balance`. */
export type CredentialBalance =
  | { credential: string; scope: string; balance: BalanceItem[] }
  | { credential: string; scope: string; error: { message: string; code: string } };

/**
 * `GET /admin/gigachat/balance`: GigaChat's own `GET /balance` (the tokens left of each prepaid
 * package) for each of the operator's GigaChat credentials, asked together; a credential whose scope
 * has no prepaid balance (pay-as-you-go: GigaChat answers 403), or whose call failed, gets its error.
 */
export function adminGigaChatBalance(
  accounts: Accounts,
  config: Pick<Config, 'gigachat' | 'upstreamTimeoutMs'>,
): GatewayMiddleware {
  return async function gigaChatBalance(ctx) {
    const { credentials } = config.gigachat;
    const timeoutMs = config.upstreamTimeoutMs;
    const pool = accounts.pool('gigachat');
    if (pool === undefined || credentials.length === 0) {
      throw new ServiceUnavailableError('GigaChat is not available on this gateway: no GigaChat credential is set.', {
        code: 'provider_not_configured',
      });
    }
    const data = await Promise.all(
      pool.members.map(async ({ name, account }): Promise<CredentialBalance> => {
        const scope = credentials.find((credential) => credential.name === name)?.settings.scope ?? '';
        const { provider } = account;
        if (!reportsBalance(provider)) {
          return {
            credential: name,
            scope,
            error: { message: 'This provider reports no balance.', code: 'unsupported' },
          };
        }
        try {
          return {
            credential: name,
            scope,
            balance: await provider.balance({ signal: AbortSignal.timeout(timeoutMs) }),
          };
        } catch (error) {
          return { credential: name, scope, error: balanceError(error) };
        }
      }),
    );
    ctx.body = { object: 'list', data };
  };
}

function balanceError(error: unknown): { message: string; code: string } {
  const failure = toGatewayError(error);
  if (failure.status === 403) {
    return {
      message:
        'GigaChat keeps no prepaid balance for this credential: its scope is billed pay-as-you-go (GigaChat answered 403 Permission denied).',
      code: 'no_prepaid_balance',
    };
  }
  return { message: failure.message, code: failure.code ?? 'upstream_error' };
}
