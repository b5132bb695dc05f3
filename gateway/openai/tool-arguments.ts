import { BadRequestError } from './errors.ts';
import { checkJsonDepth } from './json-depth.ts';

/** A tool call's `arguments` (a JSON string in OpenAI's wire format) as an object; 400 naming `param` if it is not one, or nests too deep. */
export function parseToolArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError(`The function arguments are not valid JSON.`, { param });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError('The function arguments must be a JSON object.', { param });
  }
  // They go into the upstream request, which JSON.stringify writes recursively.
  checkJsonDepth(parsed, param);
  return parsed as Record<string, unknown>;
}
