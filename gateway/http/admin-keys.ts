import { Ajv, type ErrorObject } from 'ajv';
import { koaBody } from 'koa-body';
import { type KeyFields, type KeyStore, KeyStoreError } from '../clients/key-store.ts';
import { GIGACHAT_SCOPES, isGigaChatAuthorizationKey } from '../lib/env.ts';
import { BadRequestError, GatewayError, NotFoundError } from '../openai/errors.ts';
import type { GatewayContext, GatewayMiddleware } from './state.ts';

/** Key names: what GATEWAY_CONFIG allows, so a name reads the same in logs, metrics and usage. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
/** RFC 3339 with a time zone, as `new Date().toISOString()` writes it. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const BODY_LIMIT = 64 * 1024;

/** The fields of a key; in a change each may be `null`, which removes it. */
function fieldSchemas(nullable: boolean) {
  const or = (schema: Record<string, unknown>) => (nullable ? { anyOf: [schema, { type: 'null' }] } : schema);
  return {
    models: or({ type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 1000 }),
    requestsPerMinute: or({ type: 'integer', minimum: 1, maximum: 1_000_000_000 }),
    tokensPerMinute: or({ type: 'integer', minimum: 1, maximum: 1_000_000_000_000 }),
    monthlyTokenBudget: or({ type: 'integer', minimum: 1, maximum: 1_000_000_000_000_000 }),
    expiresAt: or({ type: 'string', maxLength: 40 }),
    metadata: or({
      type: 'object',
      maxProperties: 16,
      propertyNames: { minLength: 1, maxLength: 64 },
      additionalProperties: { type: 'string', maxLength: 512 },
    }),
    gigachat: or({
      type: 'object',
      additionalProperties: false,
      required: ['credentials'],
      properties: {
        credentials: { type: 'string', minLength: 1, maxLength: 2000 },
        scope: { enum: [...GIGACHAT_SCOPES] },
      },
    }),
    gemini: or({
      type: 'object',
      additionalProperties: false,
      required: ['apiKey'],
      properties: { apiKey: { type: 'string', minLength: 1, maxLength: 500, pattern: '^\\S+$' } },
    }),
  };
}

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const validateCreate = ajv.compile<{ name: string } & KeyFields>({
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string' }, ...fieldSchemas(false) },
});
const validateChange = ajv.compile<KeyFields>({
  type: 'object',
  additionalProperties: false,
  properties: fieldSchemas(true),
});

/** The field an ajv error is about, as `gigachat.credentials`. */
function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.slice(1).replaceAll('/', '.');
  const child =
    error.keyword === 'additionalProperties'
      ? (error.params as { additionalProperty: string }).additionalProperty
      : error.keyword === 'required'
        ? (error.params as { missingProperty: string }).missingProperty
        : undefined;
  return [path, child].filter((part) => part !== undefined && part !== '').join('.');
}

/** A 400 naming the field; the value is never part of the message (it may be a credential). */
function invalid(error: ErrorObject | undefined): BadRequestError {
  if (error === undefined) return new BadRequestError('The body is invalid.', { code: 'invalid_body' });
  const field = fieldOf(error);
  if (error.keyword === 'additionalProperties') {
    return new BadRequestError(`Unknown field '${field}'.`, { param: field, code: 'unknown_parameter' });
  }
  if (error.keyword === 'required') {
    return new BadRequestError(`'${field}' is required.`, { param: field, code: 'missing_required_parameter' });
  }
  const message = error.keyword === 'anyOf' ? 'has the wrong type' : (error.message ?? 'is invalid');
  return new BadRequestError(`'${field}' ${message}.`, { param: field, code: 'invalid_value' });
}

/** Checks what the schema cannot: the name, the expiry and the GigaChat key's form; fills in the default scope. */
function checkFields(fields: KeyFields, now: number): KeyFields {
  if (typeof fields.expiresAt === 'string') {
    const at = TIMESTAMP.test(fields.expiresAt) ? Date.parse(fields.expiresAt) : Number.NaN;
    if (Number.isNaN(at)) {
      throw new BadRequestError("'expiresAt' must be an RFC 3339 time such as 2027-01-31T23:59:59Z.", {
        param: 'expiresAt',
        code: 'invalid_value',
      });
    }
    if (at <= now) {
      throw new BadRequestError("'expiresAt' is in the past.", { param: 'expiresAt', code: 'invalid_value' });
    }
    fields.expiresAt = new Date(at).toISOString();
  }
  if (fields.gigachat) {
    if (!isGigaChatAuthorizationKey(fields.gigachat.credentials)) {
      throw new BadRequestError(
        "'gigachat.credentials' must be the authorization key from GigaChat Studio (Base64 of client_id:client_secret).",
        { param: 'gigachat.credentials', code: 'invalid_value' },
      );
    }
    fields.gigachat = { credentials: fields.gigachat.credentials, scope: fields.gigachat.scope ?? 'GIGACHAT_API_PERS' };
  }
  return fields;
}

const parse = koaBody({
  json: true,
  jsonStrict: true,
  jsonLimit: BODY_LIMIT,
  urlencoded: false,
  text: false,
  multipart: false,
  patchNode: false,
  encoding: 'utf-8',
});

/** The JSON object of a POST or PATCH: 400 for another content type or text that is not JSON, 413 past the limit. */
async function readObject(ctx: GatewayContext): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new BadRequestError('Send the body as JSON with Content-Type: application/json.', {
      code: 'invalid_content_type',
    });
  }
  try {
    await parse(ctx, async () => {});
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) {
      throw new GatewayError(413, 'invalid_request_error', `The body is larger than ${BODY_LIMIT} bytes.`, {
        code: 'request_too_large',
      });
    }
    if (status !== undefined && status >= 400 && status < 500) {
      // co-body refuses a `__proto__` key outright (@hapi/bourne), before any schema sees it.
      if (/prototype/i.test((error as Error).message)) {
        throw new BadRequestError("The body may not hold the key '__proto__'.", {
          param: '__proto__',
          code: 'unknown_parameter',
        });
      }
      throw new BadRequestError('The body is not a JSON object.', { code: 'invalid_json' });
    }
    throw error;
  }
  return ctx.request.body;
}

function nameParam(ctx: GatewayContext): string {
  const name = (ctx.params as Record<string, string>).name ?? '';
  if (!NAME.test(name)) {
    throw new NotFoundError(`No key is named "${name.slice(0, 40)}".`, { param: 'name', code: 'key_not_found' });
  }
  return name;
}

/** The store's refusals in OpenAI's shape: 409 for a taken name or a key fixed at start-up, 404 for none. */
function answerRefusal(error: unknown): never {
  if (!(error instanceof KeyStoreError)) throw error;
  if (error.reason === 'missing') throw new NotFoundError(error.message, { param: 'name', code: 'key_not_found' });
  throw new GatewayError(409, 'invalid_request_error', error.message, {
    param: 'name',
    code: error.reason === 'exists' ? 'key_exists' : 'key_fixed_at_startup',
  });
}

/** `/admin/keys`: client keys made, listed, changed and revoked at run time (docs/client-keys.md). */
export function adminKeys(keys: KeyStore, now: () => number = Date.now) {
  const create: GatewayMiddleware = async (ctx) => {
    const body = await readObject(ctx);
    if (!validateCreate(body)) throw invalid(validateCreate.errors?.[0]);
    const { name, ...fields } = body;
    if (!NAME.test(name)) {
      throw new BadRequestError(
        "'name' must be 1 to 200 letters, digits and . _ : @ - (starting with a letter or digit).",
        {
          param: 'name',
          code: 'invalid_value',
        },
      );
    }
    ctx.status = 201;
    ctx.body = await keys.create(name, checkFields(fields, now())).catch(answerRefusal);
  };

  const list: GatewayMiddleware = async (ctx) => {
    ctx.body = { object: 'list', data: keys.list() };
  };

  const retrieve: GatewayMiddleware = async (ctx) => {
    const name = nameParam(ctx);
    const view = keys.get(name);
    if (view === undefined)
      throw new NotFoundError(`No key is named "${name}".`, { param: 'name', code: 'key_not_found' });
    ctx.body = view;
  };

  const change: GatewayMiddleware = async (ctx) => {
    const name = nameParam(ctx);
    const body = await readObject(ctx);
    if (!validateChange(body)) throw invalid(validateChange.errors?.[0]);
    ctx.body = await keys.update(name, checkFields(body, now())).catch(answerRefusal);
  };

  const revoke: GatewayMiddleware = async (ctx) => {
    const name = nameParam(ctx);
    await keys.revoke(name).catch(answerRefusal);
    ctx.body = { object: 'client_key.deleted', name, deleted: true };
  };

  return { create, list, retrieve, change, revoke };
}
