/*
 * GigaChat takes a narrow JSON Schema for function parameters and structured output: no $ref,
 * no anyOf/oneOf/allOf, string-only enums, `format` only for dates and times, an object root
 * (gigachat.md, "Differences from OpenAI"). Tool schemas from MCP servers, zod or Pydantic use all
 * of those, so they are rewritten into that subset here, keeping their meaning where it can be
 * kept and moving what cannot into the description.
 */

type Schema = Record<string, unknown>;

const KEPT_KEYWORDS = new Set([
  'type',
  'description',
  'properties',
  'items',
  'required',
  'enum',
  'format',
  'additionalProperties',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'pattern',
]);
const KEPT_FORMATS = new Set(['date', 'date-time', 'time']);
const MAX_DEPTH = 32;

/** Rewrites a JSON Schema into the subset GigaChat accepts; the root is always an object. */
export function normalizeGigaChatSchema(schema: Schema | undefined): Schema {
  const root = schema ?? {};
  const definitions = { ...asSchema(root.definitions), ...asSchema(root.$defs) };
  const normalized = normalize(root, definitions, 0);
  if (normalized.type !== 'object') return { type: 'object', properties: {} };
  return normalized;
}

function asSchema(value: unknown): Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : {};
}

function normalize(input: Schema, definitions: Schema, depth: number): Schema {
  if (depth > MAX_DEPTH) return { type: 'object', description: describe(input) };
  const schema = flatten(input, definitions, depth);
  const output: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (KEPT_KEYWORDS.has(key)) output[key] = value;
  }
  output.type = singleType(schema);
  if (typeof output.format === 'string' && !KEPT_FORMATS.has(output.format)) delete output.format;
  normalizeEnum(output, schema);
  if (output.type === 'object') {
    const properties: Schema = {};
    for (const [name, property] of Object.entries(asSchema(schema.properties))) {
      properties[name] = normalize(asSchema(property), definitions, depth + 1);
    }
    output.properties = properties;
    if (typeof schema.additionalProperties === 'object') {
      output.additionalProperties = normalize(asSchema(schema.additionalProperties), definitions, depth + 1);
    }
  } else {
    delete output.properties;
    delete output.required;
    delete output.additionalProperties;
  }
  if (output.type === 'array') {
    output.items = normalize(asSchema(schema.items), definitions, depth + 1);
  } else {
    delete output.items;
  }
  if (output.description === undefined) delete output.description;
  return output;
}

/** Resolves $ref, merges allOf and collapses anyOf/oneOf to their first non-null branch. */
function flatten(input: Schema, definitions: Schema, depth: number): Schema {
  let schema = input;
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop() ?? '';
    const { $ref: _ref, ...rest } = schema;
    schema = { ...flatten(asSchema(definitions[decodeURIComponent(name)]), definitions, depth + 1), ...rest };
  }
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema;
    schema = (allOf as unknown[]).reduce<Schema>(
      (merged, part) => mergeSchemas(merged, flatten(asSchema(part), definitions, depth + 1)),
      rest,
    );
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = schema[keyword];
    if (!Array.isArray(branches)) continue;
    const { [keyword]: _branches, ...rest } = schema;
    const options = branches.map((branch) => flatten(asSchema(branch), definitions, depth + 1));
    const chosen = options.find((option) => option.type !== 'null') ?? {};
    const others = options.filter((option) => option !== chosen && option.type !== 'null');
    schema = { ...chosen, ...rest };
    if (others.length > 0) {
      schema.description = joinText(schema.description, `Other accepted forms: ${others.map(describe).join('; ')}`);
    }
  }
  return schema;
}

function mergeSchemas(left: Schema, right: Schema): Schema {
  const merged: Schema = { ...left, ...right };
  if (left.properties !== undefined || right.properties !== undefined) {
    merged.properties = { ...asSchema(left.properties), ...asSchema(right.properties) };
  }
  const required = [...asArray(left.required), ...asArray(right.required)];
  if (required.length > 0) merged.required = [...new Set(required)];
  return merged;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function singleType(schema: Schema): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return (type.find((item) => item !== 'null') as string | undefined) ?? 'string';
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  if (Array.isArray(schema.enum) && schema.enum.every((value) => typeof value === 'number')) return 'number';
  return 'string';
}

/** GigaChat enums are strings only; other enums (and `const`) move into the description. */
function normalizeEnum(output: Schema, schema: Schema): void {
  const values = Array.isArray(schema.enum) ? schema.enum : 'const' in schema ? [schema.const] : undefined;
  if (values === undefined) return;
  if (output.type === 'string' && values.every((value) => typeof value === 'string')) {
    output.enum = values;
    return;
  }
  delete output.enum;
  output.description = joinText(
    output.description,
    `Allowed values: ${values.map((value) => JSON.stringify(value)).join(', ')}`,
  );
}

function joinText(first: unknown, second: string): string {
  return typeof first === 'string' && first !== '' ? `${first}. ${second}` : second;
}

function describe(schema: Schema): string {
  return JSON.stringify(schema).slice(0, 200);
}
