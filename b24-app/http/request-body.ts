import type { Context } from 'koa';
import { koaBody } from 'koa-body';

/** A body we refuse; the HTTP layer answers `status` with the message. */
export class BodyError extends Error {
  readonly status: number;
  readonly field: string | null;
  constructor(status: number, message: string, field: string | null = null) {
    super(message);
    this.name = 'BodyError';
    this.status = status;
    this.field = field;
  }
}

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type Form = { [key: string]: FormValue };

/**
 * PHP's bracket nesting, the way Bitrix24 posts events and install forms (`auth[member_id]=…` →
 * `{auth: {member_id}}`), parsed by qs: five levels below the top key (deeper brackets stay text),
 * `a[]` an array, a repeated key its last value, dots not nesting, keys reaching Object.prototype dropped.
 */
const BRACKET_FORMS = { depth: 5, allowDots: false, allowPrototypes: false, duplicates: 'last' } as const;

/** Reads one request's body; a refused body (too large, unreadable) is a BodyError. */
export type BodyReader<T> = (ctx: Context) => Promise<T>;

/** A koa-body parser made once per route, whose refusals become BodyErrors. */
function bodyReader(options: Parameters<typeof koaBody>[0], limitBytes: number): BodyReader<unknown> {
  const parse = koaBody({ ...options, multipart: false, patchNode: false, encoding: 'utf-8' });
  return async function readBody(ctx) {
    try {
      await parse(ctx, async () => {});
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if (status === 413) throw new BodyError(413, `the request body is larger than ${limitBytes} bytes`);
      if (typeof status === 'number' && status >= 400 && status < 500) {
        throw new BodyError(status, (error as Error).message);
      }
      throw error;
    }
    return ctx.request.body;
  };
}

/**
 * Reads a form-encoded body with PHP bracket nesting, whatever content type it declares, refusing
 * more than `limitBytes`. Reading stops there; the gateway's server drops the rest after the
 * answer, so the client can read the 413.
 */
export function formReader(limitBytes: number): BodyReader<Form> {
  const read = bodyReader(
    // A route that takes a form takes nothing else, so a missing or wrong content type changes nothing.
    {
      urlencoded: true,
      urlencodedTypes: ['*/*'],
      json: false,
      text: false,
      formLimit: limitBytes,
      queryString: BRACKET_FORMS,
    },
    limitBytes,
  );
  return async (ctx) => {
    const body = await read(ctx);
    return isForm(body) ? body : {};
  };
}

/**
 * Reads a JSON body, whatever content type it declares, refusing more than `limitBytes`; any JSON
 * value is returned (the caller checks its shape), and text that is not JSON is a 400.
 */
export function jsonReader(limitBytes: number): BodyReader<unknown> {
  const read = bodyReader(
    { json: true, jsonTypes: ['*/*'], jsonStrict: false, urlencoded: false, text: false, jsonLimit: limitBytes },
    limitBytes,
  );
  return async (ctx) => {
    try {
      return await read(ctx);
    } catch (error) {
      if (error instanceof BodyError && error.status === 400) throw new BodyError(400, 'the body is not valid JSON');
      throw error;
    }
  };
}

const readFrameBody = formReader(64 * 1024);

/** Reads a frame POST: its form (`AUTH_ID`, `member_id`…) and the query (`DOMAIN`, `LANG`…) beneath it. */
export async function readFrameForm(ctx: Context): Promise<Form> {
  const form = ctx.method === 'POST' ? await readFrameBody(ctx) : {};
  for (const [name, value] of Object.entries(ctx.query)) {
    if (typeof value === 'string' && !Object.hasOwn(form, name)) form[name] = value;
  }
  return form;
}

function isForm(value: unknown): value is Form {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field of a parsed form (or nested object), or undefined; only the form's own keys count. */
export function field(form: FormValue | undefined, ...path: string[]): string | undefined {
  let value: FormValue | undefined = form;
  for (const key of path) {
    if (value === undefined || typeof value === 'string' || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = value[key];
  }
  return typeof value === 'string' ? value : undefined;
}
