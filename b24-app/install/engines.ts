import type { TypeB24 } from '@bitrix24/b24jssdk';
import type { EngineRecord } from '../portal/portal-store.ts';
import { ENGINE_CODE_PREFIX, engineCodeFor } from './engine-code.ts';
import { type EngineModel, productOf } from './engine-models.ts';
import { modelContextLimit } from './model-windows.ts';
import { callRest, RestError } from './rest-client.ts';

/** The parameters of `ai.engine.register` for one engine (https://apidocs.bitrix24.com/api-reference/ai/ai-engine-register.html). */
export interface EngineSpec {
  name: string;
  code: string;
  category: 'text';
  completions_url: string;
  settings: { code_alias: 'ChatGPT'; model_context_type: 'token'; model_context_limit: number };
}

/** An item of `ai.engine.list`. */
export interface ListedEngine {
  id: number | string;
  app_code: string | null;
  name: string;
  code: string;
  category: string;
  completions_url: string;
  settings: Record<string, unknown> | null;
  date_create?: number | string;
}

export interface SyncResult {
  registered: string[];
  unregistered: string[];
  kept: string[];
  engines: EngineRecord[];
}

/** The engine for one model; `engineUrlBase` is `<PUBLIC_URL>/b24/engine/<portal key>`. */
export function engineSpec(model: EngineModel, engineUrlBase: string): EngineSpec {
  const code = engineCodeFor(model.id);
  return {
    name: `${model.id} (${productOf(model.ownedBy)} via gigagate)`,
    code,
    category: 'text',
    completions_url: `${engineUrlBase}/${code}`,
    settings: { code_alias: 'ChatGPT', model_context_type: 'token', model_context_limit: modelContextLimit(model.id) },
  };
}

/** True when the registered engine already is what we would register. Settings come back lower-cased, maybe as strings. */
function matches(listed: ListedEngine, spec: EngineSpec): boolean {
  const settings = Object.fromEntries(
    Object.entries(listed.settings ?? {}).map(([key, value]) => [key.toLowerCase(), String(value)]),
  );
  return (
    listed.name === spec.name &&
    listed.category === spec.category &&
    listed.completions_url === spec.completions_url &&
    settings.code_alias === spec.settings.code_alias &&
    settings.model_context_type === spec.settings.model_context_type &&
    settings.model_context_limit === String(spec.settings.model_context_limit)
  );
}

/** Who registers: the installed app (OAuth) or an incoming webhook (the CLI). */
export type EngineOwner = 'app' | 'webhook';

/**
 * Our engines on the portal. In the app's OAuth context the portal lists only the app's own; a
 * webhook sees every engine, and owns those without an app_code.
 */
export async function listOurEngines(b24: TypeB24, owner: EngineOwner): Promise<ListedEngine[]> {
  const listed = await callRest<ListedEngine[]>(b24, 'ai.engine.list', {});
  return (Array.isArray(listed) ? listed : []).filter(
    (engine) => engine.code.startsWith(ENGINE_CODE_PREFIX) && (owner === 'app' || engine.app_code === null),
  );
}

/**
 * Makes the portal's engines match `specs`: list → unregister what is stale or changed → register
 * what is missing. Running it again changes nothing. Re-registering an existing code fails with
 * ENGINE_REGISTER_ERROR_CODE_UNIQUE instead of updating, hence unregister first.
 */
export async function syncEngines(
  b24: TypeB24,
  owner: EngineOwner,
  specs: readonly EngineSpec[],
  models: readonly string[],
): Promise<SyncResult> {
  const result: SyncResult = { registered: [], unregistered: [], kept: [], engines: [] };
  const listed = await listOurEngines(b24, owner);
  for (const engine of listed) {
    const spec = specs.find((candidate) => candidate.code === engine.code);
    if (spec !== undefined && matches(engine, spec)) {
      result.kept.push(engine.code);
      continue;
    }
    await callRest(b24, 'ai.engine.unregister', { code: engine.code });
    result.unregistered.push(engine.code);
  }
  for (const spec of specs) {
    if (!result.kept.includes(spec.code)) {
      await registerEngine(b24, spec);
      result.registered.push(spec.code);
    }
  }
  result.engines = specs.map((spec, index) => ({ code: spec.code, name: spec.name, model: models[index] as string }));
  return result;
}

async function registerEngine(b24: TypeB24, spec: EngineSpec): Promise<void> {
  try {
    await callRest(b24, 'ai.engine.register', { ...spec });
  } catch (error) {
    if (!(error instanceof RestError) || error.code !== 'ENGINE_REGISTER_ERROR_CODE_UNIQUE') throw error;
    // The code exists but was not in our list: registered in parallel, or by another owner (a
    // webhook). Unregister removes only our own; if it did, register once more.
    const removed = await callRest<boolean>(b24, 'ai.engine.unregister', { code: spec.code });
    if (removed !== true) {
      throw new RestError(
        'ai.engine.register',
        'ENGINE_REGISTER_ERROR_CODE_UNIQUE',
        `an engine with code ${spec.code} belongs to another application or webhook; remove it there first`,
        400,
      );
    }
    await callRest(b24, 'ai.engine.register', { ...spec });
  }
}

/** Removes all our engines from the portal; returns their codes. */
export async function unregisterAll(b24: TypeB24, owner: EngineOwner): Promise<string[]> {
  const removed: string[] = [];
  for (const engine of await listOurEngines(b24, owner)) {
    if ((await callRest<boolean>(b24, 'ai.engine.unregister', { code: engine.code })) === true)
      removed.push(engine.code);
  }
  return removed;
}
