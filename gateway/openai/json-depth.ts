import { BadRequestError } from './errors.ts';

/** How deep objects and arrays may nest in a request body or in a tool call's arguments (README, "Limits"). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `value` nests objects and arrays deeper than `limit` (`value` itself is level 1). A loop
 * over its own stack, not recursion: JSON.parse takes 100,000 levels, but JSON.stringify, ajv's
 * messages and the translators would overflow the call stack on far fewer.
 */
export function nestsDeeper(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  if (!isContainer(value)) return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop() as Record<string, unknown> | unknown[];
    const depth = (depths.pop() as number) + 1;
    if (Array.isArray(node)) {
      for (const child of node) {
        if (!isContainer(child)) continue;
        if (depth > limit) return true;
        nodes.push(child);
        depths.push(depth);
      }
    } else {
      // for-in rather than Object.values: no array made per object.
      for (const key in node) {
        const child = node[key];
        if (!isContainer(child)) continue;
        if (depth > limit) return true;
        nodes.push(child);
        depths.push(depth);
      }
    }
  }
  return false;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** Throws a 400 naming `param` (or the top-level field that nests too deep) when `value` exceeds MAX_JSON_DEPTH. */
export function checkJsonDepth(value: unknown, param?: string): void {
  if (!nestsDeeper(value)) return;
  let where = param;
  if (where === undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    where = Object.keys(value).find((key) => nestsDeeper((value as Record<string, unknown>)[key], MAX_JSON_DEPTH - 1));
  }
  throw new BadRequestError(
    `${where === undefined ? 'The request body' : `'${where}'`} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`,
    { param: where ?? null, code: 'nesting_too_deep' },
  );
}
