import { BodyError } from '../http/request-body.ts';

/** One message of Bitrix24's `context` (chronological; role defaults to `user`). */
export interface ContextMessage {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

/** What the worker needs from a Bitrix24 engine request (the JSON `Engine\ThirdParty::completions()` posts), checked. */
export interface EngineRequest {
  prompt: string;
  payloadRole: string | null;
  context: ContextMessage[];
  collectContext: boolean;
  maxTokens: number | undefined;
  temperature: number | undefined;
  /** The user's UI language (`payload_markers.language`), e.g. `ru`. */
  language: string | undefined;
  callbackUrl: string;
  errorCallbackUrl: string;
  /** The portal's queue hash from the callback URLs: the job's id. */
  hash: string;
  ttlSeconds: number;
  /** `auth.member_id` when the engine was registered by an app (null for webhook engines). */
  authMemberId: string | undefined;
}

/** Bitrix24's defaults: a job lives 4 hours unless `ttl` says otherwise, at most a day (QueueJob.php). */
const DEFAULT_TTL = 14_400;
const MAX_TTL = 86_400;

const bad = (field: string, message: string) => new BodyError(400, `${field}: ${message}`, field);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks Bitrix24's JSON body; throws BodyError naming the field. */
export function parseEngineRequest(body: unknown): EngineRequest {
  if (!isObject(body)) throw new BodyError(400, 'the body must be a JSON object');
  if (body.category !== undefined && body.category !== 'text') {
    // Only a string is echoed: String() of a client's array or object may recurse, or run its `toString` key.
    if (typeof body.category !== 'string') throw bad('category', 'must be the string "text"');
    throw bad('category', `this engine answers text requests, not "${body.category.slice(0, 40)}"`);
  }
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '') throw bad('prompt', 'must be a non-empty string');
  const callbackUrl = requireString(body, 'callbackUrl');
  const errorCallbackUrl = requireString(body, 'errorCallbackUrl');
  const hash = hashOf(callbackUrl);
  return {
    prompt: body.prompt,
    payloadRole: optionalString(body, 'payload_role') ?? null,
    context: parseContext(body.context),
    collectContext: body.collect_context === true || body.collect_context === 'true' || body.collect_context === 1,
    maxTokens: optionalNumber(body, 'max_tokens', 1, 1_000_000, true),
    temperature: optionalNumber(body, 'temperature', 0, 2, false),
    language: parseLanguage(body.payload_markers),
    callbackUrl,
    errorCallbackUrl,
    hash,
    ttlSeconds: Math.min(optionalNumber(body, 'ttl', 1, Number.MAX_SAFE_INTEGER, true) ?? DEFAULT_TTL, MAX_TTL),
    authMemberId: isObject(body.auth) && typeof body.auth.member_id === 'string' ? body.auth.member_id : undefined,
  };
}

function requireString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw bad(name, 'must be a non-empty string');
  return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw bad(name, 'must be a string or null');
  return value;
}

/** Numbers may arrive as strings: PHP's json_encode keeps what the caller set. */
function optionalNumber(
  body: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  const raw = body[name];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw bad(name, `must be a number from ${min} to ${max}`);
  }
  if (integer && !Number.isInteger(value)) throw bad(name, 'must be a whole number');
  return value;
}

function parseContext(raw: unknown): ContextMessage[] {
  if (raw === undefined || raw === null) return [];
  // PHP encodes an empty array as [] but a sparse one as an object: take the values in order.
  const items = Array.isArray(raw) ? raw : isObject(raw) ? Object.values(raw) : undefined;
  if (items === undefined) throw bad('context', 'must be an array of {role, content}');
  return items.map((item, index) => {
    if (!isObject(item) || typeof item.content !== 'string') {
      throw bad(`context[${index}].content`, 'must be a string');
    }
    const role = item.role === 'assistant' || item.role === 'system' ? item.role : 'user';
    return { role, content: item.content };
  });
}

function parseLanguage(markers: unknown): string | undefined {
  if (!isObject(markers) || typeof markers.language !== 'string') return undefined;
  const language = markers.language.trim().toLowerCase();
  return /^[a-z]{2}(-[a-z]{2})?$/.test(language) ? language : undefined;
}

function hashOf(callbackUrl: string): string {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    throw bad('callbackUrl', 'is not a URL');
  }
  const hash = url.searchParams.get('hash');
  if (hash === null || !/^[\w-]{1,128}$/.test(hash)) throw bad('callbackUrl', 'has no queue hash');
  return hash;
}
