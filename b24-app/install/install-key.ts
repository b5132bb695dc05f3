import { installKey } from '../portal/portal-store.ts';
import type { B24Store } from '../store.ts';

/*
 * ai.engine.register pings the new completions_url with a GET and takes nothing but a 200
 * (https://apidocs.bitrix24.com/api-reference/ai/ai-engine-register.html), yet an install saves the portal record, and with it the new engine URL
 * nonce, only once the engines are registered. So while an install runs its nonce waits here,
 * where the engine endpoint looks too (instances sharing a Redis store included). It holds no
 * token and ends by itself if the process dies mid-install.
 */

const LIFETIME_MS = 10 * 60_000;

/** Runs `task` (the install's REST calls) with `nonce` known as the portal's engine URL nonce in progress. */
export async function withInstallNonce<T>(
  store: B24Store,
  memberId: string,
  nonce: string,
  task: () => Promise<T>,
): Promise<T> {
  await store.set(installKey(memberId), nonce, LIFETIME_MS);
  try {
    return await task();
  } finally {
    await store.delete(installKey(memberId));
  }
}

/** The nonce of an install of the portal in progress, if one runs. */
export async function installNonce(store: B24Store, memberId: string): Promise<string | undefined> {
  const nonce = await store.get<string>(installKey(memberId));
  return typeof nonce === 'string' ? nonce : undefined;
}
