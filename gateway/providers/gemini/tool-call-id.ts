import { randomBytes } from 'node:crypto';

/*
 * OpenAI clients keep only a tool call's `id` (and echo it as the tool result's `tool_call_id`),
 * while Gemini needs its own call id and, on Gemini 3, the call's thought signature back on the
 * next turn. Both therefore travel inside the id we hand out (the scheme LiteLLM uses, so
 * clients that drop unknown fields still round-trip them):
 *
 *   gemini_<Gemini's id>__thought__<signature>     or     call_<random>__thought__<signature>
 *
 * Only ids with the `gemini_` prefix are sent back to Gemini as ids; ours are not Gemini's to know.
 */

const GEMINI_PREFIX = 'gemini_';
const SIGNATURE_SEPARATOR = '__thought__';

export interface GeminiCallRef {
  /** Gemini's own function call id, when it gave one. */
  geminiId?: string;
  /** The thought signature of the part that carried the call. */
  signature?: string;
}

export function encodeGeminiToolCallId(ref: GeminiCallRef): string {
  const id =
    ref.geminiId === undefined ? `call_${randomBytes(12).toString('base64url')}` : `${GEMINI_PREFIX}${ref.geminiId}`;
  return ref.signature === undefined ? id : `${id}${SIGNATURE_SEPARATOR}${ref.signature}`;
}

export function decodeGeminiToolCallId(id: string): GeminiCallRef {
  const separator = id.indexOf(SIGNATURE_SEPARATOR);
  const base = separator === -1 ? id : id.slice(0, separator);
  const signature = separator === -1 ? undefined : id.slice(separator + SIGNATURE_SEPARATOR.length);
  const ref: GeminiCallRef = {};
  if (base.startsWith(GEMINI_PREFIX) && base.length > GEMINI_PREFIX.length)
    ref.geminiId = base.slice(GEMINI_PREFIX.length);
  if (signature !== undefined && signature !== '') ref.signature = signature;
  return ref;
}
