import { expect } from 'chai';
import { normalizeGeminiSchema } from '../../../../gateway/providers/gemini/function-schema.ts';

describe('normalizeGeminiSchema', () => {
  it('leaves a schema of kept keywords as it is', () => {
    const schema = {
      type: 'object',
      title: 'Forecast',
      description: 'Weather forecast request',
      properties: {
        location: { type: 'string', format: 'city', description: 'City name' },
        days: { type: 'integer', minimum: 1, maximum: 10 },
        units: { type: 'string', enum: ['c', 'f'] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 0, maxItems: 3 },
        pair: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }] },
        either: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        one: { oneOf: [{ type: 'integer' }, { type: 'boolean' }] },
      },
      required: ['location'],
      additionalProperties: false,
      propertyOrdering: ['location', 'days'],
    };
    expect(normalizeGeminiSchema(structuredClone(schema))).to.deep.equal(schema);
  });

  it('undefined stays undefined', () => {
    expect(normalizeGeminiSchema(undefined)).to.equal(undefined);
  });

  it('drops $schema, strict, default, examples and propertyNames, at the root and inside', () => {
    const cleaned = normalizeGeminiSchema({
      $schema: 'http://json-schema.org/draft-07/schema#',
      strict: true,
      type: 'object',
      properties: {
        city: { type: 'string', default: 'Moscow', examples: ['Kazan'] },
        labels: { type: 'object', propertyNames: { pattern: '^[a-z]+$' }, additionalProperties: { type: 'string' } },
      },
      examples: [{ city: 'Kazan' }],
    });
    expect(cleaned).to.deep.equal({
      type: 'object',
      properties: {
        city: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
  });

  it('cleans the schema of additionalProperties and of array items', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: {
        map: { type: 'object', additionalProperties: { type: 'string', default: '' } },
        list: { type: 'array', items: { type: 'integer', examples: [1] } },
      },
    });
    expect(cleaned?.properties).to.deep.equal({
      map: { type: 'object', additionalProperties: { type: 'string' } },
      list: { type: 'array', items: { type: 'integer' } },
    });
  });

  it('const → a one-value enum (a null const too)', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: { kind: { const: 'circle' }, nothing: { const: null }, zero: { const: 0 } },
    });
    expect(cleaned?.properties).to.deep.equal({
      kind: { enum: ['circle'] },
      nothing: { enum: [null] },
      zero: { enum: [0] },
    });
  });

  it('an enum given next to const wins', () => {
    const cleaned = normalizeGeminiSchema({ type: 'object', properties: { a: { const: 'x', enum: ['x', 'y'] } } });
    expect(cleaned?.properties).to.deep.equal({ a: { enum: ['x', 'y'] } });
  });

  it('exclusive bounds become inclusive ones unless an inclusive bound is given', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: {
        ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        both: { type: 'number', minimum: 5, exclusiveMinimum: 2 },
        // Draft 4 spelled them as booleans next to minimum/maximum; those go.
        draft4: { type: 'number', minimum: 0, exclusiveMinimum: true },
      },
    });
    expect(cleaned?.properties).to.deep.equal({
      ratio: { type: 'number', minimum: 0, maximum: 1 },
      both: { type: 'number', minimum: 5 },
      draft4: { type: 'number', minimum: 0 },
    });
  });

  it('a $ref stands alone: its siblings go, except $-keywords', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: {
        home: { $ref: '#/$defs/Address', description: 'Where they live', type: 'object', $comment: 'x' },
      },
      $defs: { Address: { type: 'object', properties: { street: { type: 'string' } } } },
    });
    expect(cleaned?.properties).to.deep.equal({ home: { $ref: '#/$defs/Address' } });
  });

  it('keeps $defs and cleans every definition', () => {
    const cleaned = normalizeGeminiSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { shape: { $ref: '#/$defs/Shape' } },
      required: ['shape'],
      $defs: {
        Shape: {
          type: 'object',
          properties: { kind: { const: 'square', default: 'square' }, side: { type: 'number', exclusiveMinimum: 0 } },
          required: ['kind', 'side', 'colour'],
        },
      },
    });
    expect(cleaned).to.deep.equal({
      $defs: {
        Shape: {
          type: 'object',
          properties: { kind: { enum: ['square'] }, side: { type: 'number', minimum: 0 } },
          required: ['kind', 'side'],
        },
      },
      type: 'object',
      properties: { shape: { $ref: '#/$defs/Shape' } },
      required: ['shape'],
    });
  });

  it('a schema that is only a $ref to its $defs is kept whole', () => {
    const schema = {
      $ref: '#/$defs/Query',
      $defs: { Query: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } },
    };
    expect(normalizeGeminiSchema(structuredClone(schema))).to.deep.equal(schema);
  });

  it('draft-07 definitions (Pydantic v1, zod-to-json-schema) become $defs, and their $refs follow', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: {
        item: { $ref: '#/definitions/Item' },
        items: { type: 'array', items: { $ref: '#/definitions/Item' } },
      },
      definitions: { Item: { type: 'object', properties: { next: { $ref: '#/definitions/Item' } } } },
    });
    expect(cleaned).to.deep.equal({
      $defs: { Item: { type: 'object', properties: { next: { $ref: '#/$defs/Item' } } } },
      type: 'object',
      properties: {
        item: { $ref: '#/$defs/Item' },
        items: { type: 'array', items: { $ref: '#/$defs/Item' } },
      },
    });
  });

  it('unwraps a single-entry allOf (how zod and Pydantic wrap a $ref), the outer keywords winning', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: {
        size: { allOf: [{ type: 'integer', minimum: 1, default: 3 }], description: 'Size', maximum: 9 },
        mode: { allOf: [{ $ref: '#/$defs/Mode' }], description: 'dropped beside the $ref' },
        named: { allOf: [{ type: 'string', description: 'inner' }], description: 'outer' },
      },
      $defs: { Mode: { enum: ['a', 'b'] } },
    });
    expect(cleaned?.properties).to.deep.equal({
      size: { type: 'integer', minimum: 1, description: 'Size', maximum: 9 },
      mode: { $ref: '#/$defs/Mode' },
      named: { type: 'string', description: 'outer' },
    });
  });

  it('drops an allOf of several entries, which Gemini cannot take', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: { x: { allOf: [{ type: 'string' }, { minLength: 2 }], description: 'x' } },
    });
    expect(cleaned?.properties).to.deep.equal({ x: { description: 'x' } });
  });

  it('filters required down to the properties that exist', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' } },
      required: ['a', 'ghost', 'b', 7],
    });
    expect(cleaned?.required).to.deep.equal(['a', 'b']);
  });

  it('keeps properties named like keywords ("default", "type", "$schema", "examples", "const")', () => {
    const properties = {
      default: { type: 'boolean', description: 'Use as the default' },
      type: { type: 'string', enum: ['a', 'b'] },
      $schema: { type: 'string' },
      examples: { type: 'array', items: { type: 'string' } },
      const: { type: 'number' },
    };
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: structuredClone(properties),
      required: ['default', 'type', 'const'],
    });
    expect(cleaned).to.deep.equal({ type: 'object', properties, required: ['default', 'type', 'const'] });
  });

  it('cleans inside anyOf, oneOf and prefixItems', () => {
    const cleaned = normalizeGeminiSchema({
      type: 'object',
      properties: {
        value: {
          anyOf: [{ type: 'string', default: '' }, { const: 1 }],
          oneOf: [{ type: 'number', exclusiveMaximum: 5 }],
        },
        tuple: { type: 'array', prefixItems: [{ type: 'string', examples: ['a'] }] },
      },
    });
    expect(cleaned?.properties).to.deep.equal({
      value: { anyOf: [{ type: 'string' }, { enum: [1] }], oneOf: [{ type: 'number', maximum: 5 }] },
      tuple: { type: 'array', prefixItems: [{ type: 'string' }] },
    });
  });

  describe('an object schema with nothing in it means "no parameters"', () => {
    for (const schema of [
      { type: 'object' },
      { type: 'object', properties: {} },
      { type: 'object', properties: {}, required: [], $schema: 'http://json-schema.org/draft-07/schema#' },
    ]) {
      it(JSON.stringify(schema), () => {
        expect(normalizeGeminiSchema(schema)).to.equal(undefined);
      });
    }

    it('an empty object closed with additionalProperties false is still "no parameters"', () => {
      expect(normalizeGeminiSchema({ type: 'object', properties: {}, additionalProperties: false })).to.equal(
        undefined,
      );
    });

    it('but a map (additionalProperties with a schema, or true) is kept: its keys are the arguments', () => {
      const map = { type: 'object', additionalProperties: { type: 'string' } };
      expect(normalizeGeminiSchema(structuredClone(map))).to.deep.equal(map);
      expect(normalizeGeminiSchema({ type: 'object', additionalProperties: true })).to.deep.equal({
        type: 'object',
        additionalProperties: true,
      });
    });

    it('but an object with a $ref or anyOf is kept', () => {
      expect(normalizeGeminiSchema({ type: 'object', anyOf: [{ type: 'object' }] })).to.deep.equal({
        type: 'object',
        anyOf: [{ type: 'object' }],
      });
    });
  });

  it('stops descending after 64 levels instead of overflowing the stack', () => {
    let schema: Record<string, unknown> = { type: 'string', default: 'deep' };
    for (let level = 0; level < 5000; level++) schema = { type: 'object', properties: { next: schema } };
    const cleaned = normalizeGeminiSchema(schema);
    let depth = 0;
    let node = cleaned as Record<string, any>;
    while (node.properties?.next !== undefined) {
      node = node.properties.next;
      depth++;
    }
    expect(depth).to.be.within(30, 70);
    expect(node).to.deep.equal({});
    expect(JSON.stringify(cleaned)).to.not.contain('deep');
  });

  it('does not change the schema it was given', () => {
    const schema = {
      type: 'object',
      properties: { a: { const: 1, default: 1 }, b: { allOf: [{ type: 'string' }] } },
      required: ['a', 'z'],
      definitions: { X: { type: 'string' } },
    };
    const copy = structuredClone(schema);
    normalizeGeminiSchema(schema);
    expect(schema).to.deep.equal(copy);
  });
});
