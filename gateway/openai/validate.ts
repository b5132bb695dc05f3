import { Ajv, type ErrorObject } from 'ajv';
import { BadRequestError } from './errors.ts';

const ajv = new Ajv({ discriminator: true, verbose: true, strict: true, allowUnionTypes: true, allErrors: false });

/** A JSON Schema `type` that also admits null, as OpenAI's optional fields do. */
export const nullable = (type: string) => [type, 'null'];

/** OpenAI's pattern for function and schema names. */
export const FUNCTION_NAME = '^[a-zA-Z0-9_-]{1,64}$';

/**
 * Compiles a JSON Schema once and returns a function that checks a request body against it,
 * throwing a 400 that names the offending parameter as OpenAI's API does.
 */
export function compileValidator<T>(schema: object): (body: unknown) => T {
  const validate = ajv.compile(schema);
  return (body: unknown): T => {
    if (validate(body)) return body as T;
    throw toBadRequest(pickError(validate.errors ?? []), body);
  };
}

// A failed anyOf lists every branch's complaint first; the anyOf error itself reads best.
function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  return errors.find((error) => error.keyword === 'anyOf') ?? errors[0];
}

/** `/messages/0/content` → `messages[0].content`. */
export function toParam(instancePath: string, child?: string): string {
  const segments = instancePath.split('/').slice(1);
  if (child !== undefined) segments.push(child);
  let param = '';
  for (const raw of segments) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    param += /^\d+$/.test(segment) ? `[${segment}]` : param === '' ? segment : `.${segment}`;
  }
  return param;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A client's value for a message: a string, number or boolean as it is (shortened), anything else
 * by its kind. String() of an object runs the client's own `toString` key, which fails.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value.length > 100 ? `${value.slice(0, 100)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describe(value);
}

function quote(values: readonly unknown[]): string {
  return values
    .filter((value) => value !== null)
    .map((value) => `'${String(value)}'`)
    .join(', ');
}

function toBadRequest(error: ErrorObject | undefined, body: unknown): BadRequestError {
  if (error === undefined) return new BadRequestError('The request body is invalid.');
  const param = toParam(error.instancePath);
  const where = param === '' ? 'the request body' : `'${param}'`;
  const hint = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case 'required': {
      const missing = toParam(error.instancePath, error.params.missingProperty);
      return new BadRequestError(`Missing required parameter: '${missing}'.`, { param: missing });
    }
    case 'additionalProperties': {
      const extra = toParam(error.instancePath, error.params.additionalProperty);
      const message =
        param === '' ? `Unrecognized request argument supplied: ${extra}` : `Unrecognized parameter '${extra}'.`;
      return new BadRequestError(message, { param: extra });
    }
    case 'type':
      if (param === '') {
        return new BadRequestError(`The request body must be a JSON object, but got ${describe(body)}.`);
      }
      return new BadRequestError(
        `Invalid type for ${where}: expected ${String(error.params.type).replaceAll(',', ' or ')}, but got ${describe(error.data)} instead.`,
        { param },
      );
    case 'enum':
    case 'const': {
      const allowed = error.keyword === 'enum' ? error.params.allowedValues : [error.params.allowedValue];
      return new BadRequestError(
        `Invalid value for ${where}: '${showValue(error.data)}'. Supported values are: ${quote(allowed)}.`,
        { param },
      );
    }
    case 'discriminator': {
      const tag = toParam(error.instancePath, error.params.tag);
      const mapping = error.parentSchema?.oneOf as Array<{ properties: Record<string, { const: string }> }>;
      const allowed = mapping.map((branch) => branch.properties[error.params.tag]?.const);
      const value = error.params.tagValue;
      const message =
        value === undefined
          ? `Missing required parameter: '${tag}'.`
          : `Invalid value for '${tag}': '${showValue(value)}'. Supported values are: ${quote(allowed)}.`;
      return new BadRequestError(message, { param: tag });
    }
    case 'minItems':
      return new BadRequestError(
        `Invalid ${where}: expected an array with at least ${error.params.limit} item(s), but got ${(error.data as unknown[]).length}.`,
        { param },
      );
    case 'maxItems':
      return new BadRequestError(
        `Invalid ${where}: expected an array with at most ${error.params.limit} item(s), but got ${(error.data as unknown[]).length}.`,
        { param },
      );
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
      return new BadRequestError(
        `Invalid ${where}: expected a value ${error.params.comparison} ${error.params.limit}, but got ${showValue(error.data)} instead.`,
        { param },
      );
    default:
      return new BadRequestError(`Invalid ${where}: ${hint ?? error.message ?? 'not allowed here'}.`, { param });
  }
}
