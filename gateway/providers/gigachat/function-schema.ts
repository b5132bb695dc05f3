/*
 * GigaChat takes a narrow JSON Schema for function parameters and structured output: no $ref,
 * no anyOf/oneOf/allOf, string-only enums, `format` only for dates and times, an object root
 * (https://developers.sber.ru/docs/ru/gigachat/guides/function-calling). Tool schemas from MCP servers, zod or Pydantic use all
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

function normalize(input: Schema, definitions: Schema, depth: number, inlinedAbove: readonly string[] = []): Schema {
  if (depth > MAX_DEPTH) return { type: 'object', description: describe(input) };
  const inlined = [...inlinedAbove];
  const schema = flatten(input, definitions, depth, inlined);
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
      properties[name] = normalize(asSchema(property), definitions, depth + 1, inlined);
    }
    output.properties = properties;
    if (typeof schema.additionalProperties === 'object') {
      output.additionalProperties = normalize(asSchema(schema.additionalProperties), definitions, depth + 1, inlined);
    }
  } else {
    delete output.properties;
    delete output.required;
    delete output.additionalProperties;
  }
  if (output.type === 'array') {
    output.items = normalize(asSchema(schema.items), definitions, depth + 1, inlined);
  } else {
    delete output.items;
  }
  if (output.description === undefined) delete output.description;
  return output;
}

/**
 * Resolves $ref, merges allOf and collapses anyOf/oneOf to their first non-null branch.
 * `inlined` lists the definitions already inlined around this schema and receives those inlined
 * here: a definition met again is recursive and is cut off, since inlining it at every level
 * grows the schema exponentially (a filter with and/or/not of itself ran the process out of memory).
 */
function flatten(input: Schema, definitions: Schema, depth: number, inlined: string[]): Schema {
  if (depth > MAX_DEPTH) return {};
  let schema = input;
  if (typeof schema.$ref === 'string') {
    const name = decodeURIComponent(schema.$ref.split('/').pop() ?? '');
    const { $ref: _ref, ...rest } = schema;
    const target = asSchema(definitions[name]);
    if (inlined.includes(name)) {
      const type = typeof target.type === 'string' ? target.type : 'object';
      schema = { type, description: `Same structure as ${name} (recursive)`, ...rest };
    } else {
      inlined.push(name);
      schema = { ...flatten(target, definitions, depth + 1, inlined), ...rest };
    }
  }
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema;
    schema = (allOf as unknown[]).reduce<Schema>(
      (merged, part) => mergeSchemas(merged, flatten(asSchema(part), definitions, depth + 1, inlined)),
      rest,
    );
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = schema[keyword];
    if (!Array.isArray(branches)) continue;
    const { [keyword]: _branches, ...rest } = schema;
    const options = branches.map((branch) => {
      const branchInlined = [...inlined];
      return { schema: flatten(asSchema(branch), definitions, depth + 1, branchInlined), inlined: branchInlined };
    });
    const chosen = options.find((option) => option.schema.type !== 'null');
    const others = options.filter((option) => option !== chosen && option.schema.type !== 'null');
    if (chosen !== undefined) inlined.splice(0, inlined.length, ...chosen.inlined);
    schema = { ...chosen?.schema, ...rest };
    if (others.length > 0) {
      const forms = others.map((option) => describe(option.schema)).join('; ');
      schema.description = joinText(schema.description, `Other accepted forms: ${forms}`);
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
  const values = allowedValues(schema) ?? [];
  if (values.length > 0 && values.every((value) => typeof value === 'number')) return 'number';
  if (values.length > 0 && values.every((value) => typeof value === 'boolean')) return 'boolean';
  return 'string';
}

/** The values `enum` or `const` allow, if either is present. */
function allowedValues(schema: Schema): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  return 'const' in schema ? [schema.const] : undefined;
}

/** GigaChat enums are strings only; other enums (and `const`) move into the description. */
function normalizeEnum(output: Schema, schema: Schema): void {
  const values = allowedValues(schema);
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
