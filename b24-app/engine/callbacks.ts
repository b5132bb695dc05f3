/** The success callback body: Bitrix24 reads `result`, a string (`ThirdParty::getResultFromRaw`). */
export interface SuccessCallback {
  result: string;
}

/** The error callback body `QueueJob::fail()` reads. */
export interface ErrorCallback {
  message: string;
  error: string;
  code: number;
  /** false rolls back the portal's consumption counter. */
  api_request_completed: false;
}

/** `delivered`: the portal took it; `refused`: it never will (unknown hash, 4xx); `retry`: try again later. */
export type CallbackOutcome =
  | { kind: 'delivered' }
  | { kind: 'refused'; reason: string }
  | { kind: 'retry'; reason: string };

/** Bitrix24's callback controller actions (`QueueJob::getCallbackUrl()`). */
export const CALLBACK_ACTIONS = {
  success: 'ai.controller.integration.thirdparty.callbackSuccess',
  error: 'ai.controller.integration.thirdparty.callbackError',
} as const;

const CALLBACK_PATH = '/bitrix/services/main/ajax.php';

/**
 * True when a callback URL is Bitrix24's own callback on the portal: https, exactly the portal's
 * host and port as stored at install, no user info, the `ajax.php` controller path, one `action`
 * (success or error, as asked) and a queue `hash`. Anything else would let whoever can reach the
 * engine URL make us POST a model's answer to another host, or to another REST method of the portal.
 */
export function isPortalCallbackUrl(value: string, portalDomain: string, kind: keyof typeof CALLBACK_ACTIONS): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  const actions = url.searchParams.getAll('action');
  return (
    url.protocol === 'https:' &&
    url.username === '' &&
    url.password === '' &&
    url.host === portalDomain &&
    url.pathname === CALLBACK_PATH &&
    url.hash === '' &&
    actions.length === 1 &&
    actions[0] === CALLBACK_ACTIONS[kind] &&
    url.searchParams.getAll('hash').length === 1
  );
}

/**
 * POSTs a callback as JSON (the controller reads a JSON payload; a form body is ignored). Never
 * follows redirects: a redirect could lead off the portal.
 */
export async function postCallback(url: string, body: SuccessCallback | ErrorCallback): Promise<CallbackOutcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(20_000),
    });
  } catch (error) {
    return { kind: 'retry', reason: `no answer (${(error as Error).cause ?? (error as Error).message})` };
  }
  const text = await response.text().catch(() => '');
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    return { kind: 'retry', reason: `HTTP ${response.status}` };
  }
  if (response.status < 200 || response.status >= 300) return { kind: 'refused', reason: `HTTP ${response.status}` };
  // Bitrix24's ajax envelope: {"status":"success","data":true}; data false = unknown or expired hash.
  const envelope = parseJson(text) as { status?: unknown; data?: unknown; errors?: unknown } | undefined;
  if (envelope?.status === 'error')
    return { kind: 'refused', reason: `portal error ${JSON.stringify(envelope.errors)}` };
  if (envelope?.data === false) return { kind: 'refused', reason: 'the portal no longer knows this job (data: false)' };
  return { kind: 'delivered' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
