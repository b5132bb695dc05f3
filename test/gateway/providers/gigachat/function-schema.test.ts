import { expect } from 'chai';
import { normalizeGigaChatSchema } from '../../../../gateway/providers/gigachat/function-schema.ts';

/** Normalises an object schema with one property and returns that property. */
function property(schema: Record<string, unknown>, extras: Record<string, unknown> = {}): unknown {
  const normalized = normalizeGigaChatSchema({ type: 'object', properties: { value: schema }, ...extras });
  return (normalized.properties as Record<string, unknown>).value;
}

describe('normalizeGigaChatSchema', () => {
  it('keeps an already simple schema as it is', () => {
    const schema = {
      type: 'object',
      description: 'Параметры',
      properties: {
        city: { type: 'string', description: 'Город', enum: ['Москва', 'Казань'] },
        days: { type: 'integer', minimum: 1, maximum: 10 },
      },
      required: ['city'],
      additionalProperties: false,
    };
    expect(normalizeGigaChatSchema(structuredClone(schema))).to.deep.equal(schema);
  });

  it('drops keywords GigaChat does not take ($schema, title, default, examples)', () => {
    expect(
      normalizeGigaChatSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        title: 'Args',
        type: 'object',
        properties: { q: { type: 'string', title: 'Q', default: 'x', examples: ['y'] } },
      }),
    ).to.deep.equal({ type: 'object', properties: { q: { type: 'string' } } });
  });

  describe('$ref', () => {
    it('inlines $defs references and drops $defs', () => {
      expect(
        normalizeGigaChatSchema({
          type: 'object',
          properties: { home: { $ref: '#/$defs/Address' }, work: { $ref: '#/$defs/Address', description: 'Офис' } },
          $defs: {
            Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        }),
      ).to.deep.equal({
        type: 'object',
        properties: {
          home: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          work: { type: 'object', description: 'Офис', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      });
    });

    it('inlines draft-07 definitions references', () => {
      expect(
        property({ $ref: '#/definitions/Unit' }, { definitions: { Unit: { type: 'string', enum: ['C', 'F'] } } }),
      ).to.deep.equal({ type: 'string', enum: ['C', 'F'] });
    });

    it('a reference to a missing definition becomes a plain string', () => {
      expect(property({ $ref: '#/$defs/Nowhere' })).to.deep.equal({ type: 'string' });
    });

    it('inlines a self-referencing $ref once and cuts the recursion off there', () => {
      expect(
        normalizeGigaChatSchema({
          type: 'object',
          properties: { root: { $ref: '#/$defs/Node' } },
          $defs: {
            Node: { type: 'object', properties: { name: { type: 'string' }, child: { $ref: '#/$defs/Node' } } },
          },
        }),
      ).to.deep.equal({
        type: 'object',
        properties: {
          root: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              child: { type: 'object', description: 'Same structure as Node (recursive)', properties: {} },
            },
          },
        },
      });
    });

    it('stays small for a filter that refers to itself three times per level (once ran out of memory)', () => {
      const normalized = normalizeGigaChatSchema({
        type: 'object',
        properties: { filter: { anyOf: [{ $ref: '#/$defs/Filter' }, { type: 'null' }] } },
        $defs: {
          Filter: {
            type: 'object',
            properties: {
              field: { type: 'string' },
              and: { type: 'array', items: { $ref: '#/$defs/Filter' } },
              or: { type: 'array', items: { $ref: '#/$defs/Filter' } },
              not: { anyOf: [{ $ref: '#/$defs/Filter' }, { type: 'null' }] },
            },
          },
        },
      }) as Record<string, any>;
      const cut = { type: 'object', description: 'Same structure as Filter (recursive)', properties: {} };
      expect(normalized.properties.filter).to.deep.equal({
        type: 'object',
        properties: {
          field: { type: 'string' },
          and: { type: 'array', items: cut },
          or: { type: 'array', items: cut },
          not: cut,
        },
      });
    });

    it('inlines the same definition again in sibling properties (only recursion is cut)', () => {
      const normalized = normalizeGigaChatSchema({
        type: 'object',
        properties: {
          pet: { anyOf: [{ $ref: '#/$defs/Cat' }, { $ref: '#/$defs/Dog' }] },
          dog: { $ref: '#/$defs/Dog' },
        },
        $defs: {
          Cat: { type: 'object', properties: { enemy: { $ref: '#/$defs/Dog' } } },
          Dog: { type: 'object', properties: { bark: { type: 'boolean' } } },
        },
      }) as Record<string, any>;
      const dog = { type: 'object', properties: { bark: { type: 'boolean' } } };
      expect(normalized.properties.dog).to.deep.equal(dog);
      expect(normalized.properties.pet.properties.enemy).to.deep.equal(dog);
    });

    it('terminates on definitions that refer to each other directly', () => {
      expect(
        normalizeGigaChatSchema({
          type: 'object',
          properties: { loop: { $ref: '#/$defs/A' } },
          $defs: { A: { $ref: '#/$defs/B' }, B: { $ref: '#/$defs/A' } },
        }),
      ).to.deep.equal({
        type: 'object',
        properties: { loop: { type: 'object', description: 'Same structure as A (recursive)', properties: {} } },
      });
    });

    it('cuts a recursive array definition off as an array', () => {
      expect(
        property(
          { $ref: '#/$defs/Nested' },
          { $defs: { Nested: { type: 'array', items: { $ref: '#/$defs/Nested' } } } },
        ),
      ).to.deep.equal({
        type: 'array',
        items: { type: 'array', description: 'Same structure as Nested (recursive)', items: { type: 'string' } },
      });
    });
  });

  describe('anyOf, oneOf and allOf', () => {
    it('collapses anyOf with null to the non-null branch (Pydantic Optional)', () => {
      expect(property({ anyOf: [{ type: 'integer' }, { type: 'null' }], description: 'Лимит' })).to.deep.equal({
        type: 'integer',
        description: 'Лимит',
      });
    });

    it('collapses anyOf with null around a $ref', () => {
      expect(
        property(
          { anyOf: [{ $ref: '#/$defs/Unit' }, { type: 'null' }] },
          { $defs: { Unit: { type: 'string', enum: ['C', 'F'] } } },
        ),
      ).to.deep.equal({ type: 'string', enum: ['C', 'F'] });
    });

    it('takes the first of several real branches and names the others in the description', () => {
      const result = property({ oneOf: [{ type: 'string' }, { type: 'number' }] }) as Record<string, unknown>;
      expect(result.type).to.equal('string');
      expect(result.description).to.equal('Other accepted forms: {"type":"number"}');
      expect(result).to.not.have.property('oneOf');
    });

    it('merges allOf properties and required lists', () => {
      expect(
        normalizeGigaChatSchema({
          allOf: [
            { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
            { properties: { b: { type: 'number' } }, required: ['b', 'a'] },
          ],
        }),
      ).to.deep.equal({
        type: 'object',
        properties: { a: { type: 'string' }, b: { type: 'number' } },
        required: ['a', 'b'],
      });
    });

    it('merges allOf of $refs', () => {
      expect(
        normalizeGigaChatSchema({
          allOf: [{ $ref: '#/$defs/Named' }, { $ref: '#/$defs/Aged' }],
          $defs: {
            Named: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
            Aged: { type: 'object', properties: { age: { type: 'integer' } } },
          },
        }),
      ).to.deep.equal({
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: 'integer' } },
        required: ['name'],
      });
    });
  });

  describe('types', () => {
    it("type ['string', 'null'] → 'string'", () => {
      expect(property({ type: ['string', 'null'] })).to.deep.equal({ type: 'string' });
    });

    it("type ['null', 'integer'] → 'integer'", () => {
      expect(property({ type: ['null', 'integer'] })).to.deep.equal({ type: 'integer' });
    });

    it('infers object and array from properties and items', () => {
      expect(property({ properties: { x: { type: 'string' } } })).to.deep.equal({
        type: 'object',
        properties: { x: { type: 'string' } },
      });
      expect(property({ items: { type: 'number' } })).to.deep.equal({ type: 'array', items: { type: 'number' } });
    });

    it('gives arrays without items, nested ones too, an items schema', () => {
      expect(property({ type: 'array', items: { type: 'array' } })).to.deep.equal({
        type: 'array',
        items: { type: 'array', items: { type: 'string' } },
      });
    });

    it('drops properties and items that do not fit the type', () => {
      expect(property({ type: 'string', items: { type: 'string' }, properties: {}, required: ['x'] })).to.deep.equal({
        type: 'string',
      });
    });

    it('normalises additionalProperties schemas and keeps booleans', () => {
      expect(property({ type: 'object', additionalProperties: { type: ['number', 'null'] } })).to.deep.equal({
        type: 'object',
        properties: {},
        additionalProperties: { type: 'number' },
      });
      expect(property({ type: 'object', additionalProperties: true })).to.deep.equal({
        type: 'object',
        properties: {},
        additionalProperties: true,
      });
    });
  });

  describe('enum, const and format', () => {
    it('keeps string enums', () => {
      expect(property({ type: 'string', enum: ['a', 'b'] })).to.deep.equal({ type: 'string', enum: ['a', 'b'] });
    });

    it('moves a non-string enum into the description', () => {
      expect(property({ type: 'integer', enum: [1, 2, 3], description: 'Уровень' })).to.deep.equal({
        type: 'integer',
        description: 'Уровень. Allowed values: 1, 2, 3',
      });
    });

    it('infers number for an untyped numeric enum', () => {
      expect(property({ enum: [0.5, 1] })).to.deep.equal({ type: 'number', description: 'Allowed values: 0.5, 1' });
    });

    it('turns a string const into a one-value enum', () => {
      expect(property({ const: 'metric' })).to.deep.equal({ type: 'string', enum: ['metric'] });
    });

    it('moves a numeric const into the description and keeps its type', () => {
      expect(property({ type: 'integer', const: 2 })).to.deep.equal({
        type: 'integer',
        description: 'Allowed values: 2',
      });
    });

    it('infers the type of an untyped numeric or boolean const', () => {
      expect(property({ const: 2 })).to.deep.equal({ type: 'number', description: 'Allowed values: 2' });
      expect(property({ const: true })).to.deep.equal({ type: 'boolean', description: 'Allowed values: true' });
    });

    it("drops format 'email' and 'uuid'", () => {
      expect(property({ type: 'string', format: 'email' })).to.deep.equal({ type: 'string' });
      expect(property({ type: 'string', format: 'uuid' })).to.deep.equal({ type: 'string' });
    });

    it("keeps format 'date', 'date-time' and 'time'", () => {
      for (const format of ['date', 'date-time', 'time']) {
        expect(property({ type: 'string', format })).to.deep.equal({ type: 'string', format });
      }
    });
  });

  describe('the root', () => {
    it('an undefined or empty schema → an empty object schema', () => {
      expect(normalizeGigaChatSchema(undefined)).to.deep.equal({ type: 'object', properties: {} });
      expect(normalizeGigaChatSchema({})).to.deep.equal({ type: 'object', properties: {} });
    });

    it('a root with properties but no type is an object', () => {
      expect(normalizeGigaChatSchema({ properties: { q: { type: 'string' } } })).to.deep.equal({
        type: 'object',
        properties: { q: { type: 'string' } },
      });
    });

    it('a root of type object without properties gets empty properties', () => {
      expect(normalizeGigaChatSchema({ type: 'object' })).to.deep.equal({ type: 'object', properties: {} });
    });

    it('a non-object root → an empty object schema', () => {
      expect(normalizeGigaChatSchema({ type: 'string' })).to.deep.equal({ type: 'object', properties: {} });
      expect(normalizeGigaChatSchema({ type: 'array', items: { type: 'string' } })).to.deep.equal({
        type: 'object',
        properties: {},
      });
    });

    it('does not change the schema it was given', () => {
      const schema = {
        type: 'object',
        properties: { a: { anyOf: [{ type: 'string', format: 'email' }, { type: 'null' }] } },
      };
      const copy = structuredClone(schema);
      normalizeGigaChatSchema(schema);
      expect(schema).to.deep.equal(copy);
    });
  });
});
