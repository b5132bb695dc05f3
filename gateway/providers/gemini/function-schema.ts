/*
 * Gemini takes JSON Schema for function parameters (`parametersJsonSchema`) and structured output
 * (`responseJsonSchema`), but only a listed set of keywords; anything else is a 400 ("Unknown
 * name", "Invalid JSON payload"). Schemas from zod, Pydantic and MCP servers carry `$schema`,
 * `const`, `default`, `examples`, exclusive bounds and more, so they are cut down to that set
 * here (https://ai.google.dev/api/caching#Schema), keeping the meaning where a keyword can be rewritten.
 */

type Schema = Record<string, unknown>;

const KEPT_KEYWORDS = new Set([
  '$id',
  '$ref',
  '$anchor',
  'type',
  'format',
  'title',
  'description',
  'enum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'anyOf',
  'oneOf',
  'properties',
  'additionalProperties',
  'required',
  'propertyOrdering',
]);
/** Keywords whose value is a map of names to schemas. */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const MAX_DEPTH = 64;

/** Cleans a JSON Schema for Gemini; undefined for "no parameters" (Gemini rejects an empty object). */
export function normalizeGeminiSchema(schema: Schema | undefined): Schema | undefined {
  if (schema === undefined) return undefined;
  const cleaned = clean(schema, 0);
  const properties = cleaned.properties;
  const isEmptyObject =
    cleaned.type === 'object' &&
    (properties === undefined || Object.keys(properties as Schema).length === 0) &&
    // A map ({type: object, additionalProperties: {...}}) has arguments: its keys.
    (cleaned.additionalProperties === undefined || cleaned.additionalProperties === false) &&
    cleaned.$ref === undefined &&
    cleaned.anyOf === undefined &&
    cleaned.oneOf === undefined;
  return isEmptyObject ? undefined : cleaned;
}

function clean(input: Schema, depth: number): Schema {
  if (depth > MAX_DEPTH) return {};
  const output: Schema = {};
  const definitions = input.$defs ?? input.definitions;
  if (isSchema(definitions)) output.$defs = cleanMap(definitions, depth);
  for (const [key, value] of Object.entries(input)) {
    if (!KEPT_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && isSchema(value)) output[key] = cleanMap(value, depth);
    else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) output[key] = value.map((item) => cleanAny(item, depth));
    else if ((key === 'items' || key === 'additionalProperties') && isSchema(value))
      output[key] = clean(value, depth + 1);
    else output[key] = value;
  }
  if (input.const !== undefined && output.enum === undefined) output.enum = [input.const];
  if (typeof input.exclusiveMinimum === 'number' && output.minimum === undefined) {
    output.minimum = input.exclusiveMinimum;
  }
  if (typeof input.exclusiveMaximum === 'number' && output.maximum === undefined) {
    output.maximum = input.exclusiveMaximum;
  }
  // allOf has no Gemini counterpart; a single entry (how zod and Pydantic wrap a $ref) is kept as that entry.
  if (Array.isArray(input.allOf) && input.allOf.length === 1 && isSchema(input.allOf[0])) {
    Object.assign(output, clean(input.allOf[0], depth + 1), stripUndefined(output));
  }
  // A $ref must stand alone, apart from other $-keywords.
  if (typeof output.$ref === 'string') {
    // Draft-07 `definitions` are kept as `$defs` (above), so references to them must follow.
    output.$ref = output.$ref.replace(/^#\/definitions\//, '#/$defs/');
    for (const key of Object.keys(output)) if (!key.startsWith('$')) delete output[key];
  }
  if (Array.isArray(output.required) && isSchema(output.properties)) {
    const names = new Set(Object.keys(output.properties));
    output.required = output.required.filter((name) => typeof name === 'string' && names.has(name));
  }
  return output;
}

function cleanMap(map: Schema, depth: number): Schema {
  const output: Schema = {};
  for (const [name, value] of Object.entries(map)) output[name] = cleanAny(value, depth);
  return output;
}

function cleanAny(value: unknown, depth: number): unknown {
  return isSchema(value) ? clean(value, depth + 1) : value;
}

function stripUndefined(schema: Schema): Schema {
  return Object.fromEntries(Object.entries(schema).filter(([, value]) => value !== undefined));
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
