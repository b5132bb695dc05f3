import type { ParsedUrlQuery } from 'node:querystring';
import type { ClientPolicy } from '../clients/policy.ts';
import { type UsageQuery, utcDate } from '../clients/usage-row.ts';
import { BadRequestError } from '../openai/errors.ts';
import type { GatewayMiddleware } from './state.ts';

/** The longest range one request may read, in days (a year, leap or not). */
const MAX_DAYS = 366;
const DAY_MS = 86_400_000;
const PARAMS = ['from', 'to', 'client', 'model'];

function single(query: ParsedUrlQuery, param: string): string | undefined {
  const value = query[param];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequestError(`Give ${param} once.`, { param, code: 'invalid_query' });
  if (value === '') throw new BadRequestError(`${param} is empty.`, { param, code: 'invalid_query' });
  return value;
}

function date(query: ParsedUrlQuery, param: string): string | undefined {
  const value = single(query, param);
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || utcDate(Date.parse(value) || 0) !== value) {
    throw new BadRequestError(`${param} must be a date as YYYY-MM-DD, got "${value.slice(0, 40)}".`, {
      param,
      code: 'invalid_query',
    });
  }
  return value;
}

/**
 * Reads GET /admin/usage's query: `from` and `to` (UTC dates, inclusive; default today, or `to`
 * alone for a single day), optional `client` and `model` filters. Throws a 400 naming the param.
 */
export function parseUsageQuery(query: ParsedUrlQuery, today: string): UsageQuery {
  for (const param of Object.keys(query)) {
    if (!PARAMS.includes(param)) {
      throw new BadRequestError(`Unknown query parameter "${param.slice(0, 40)}"; use ${PARAMS.join(', ')}.`, {
        param,
        code: 'invalid_query',
      });
    }
  }
  const to = date(query, 'to') ?? today;
  const from = date(query, 'from') ?? to;
  if (from > to)
    throw new BadRequestError(`from (${from}) is after to (${to}).`, { param: 'from', code: 'invalid_query' });
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > MAX_DAYS) {
    throw new BadRequestError(`At most ${MAX_DAYS} days at a time; ask in several ranges.`, {
      param: 'from',
      code: 'invalid_query',
    });
  }
  const parsed: UsageQuery = { from, to };
  const client = single(query, 'client');
  const model = single(query, 'model');
  if (client !== undefined) parsed.client = client;
  if (model !== undefined) parsed.model = model;
  return parsed;
}

/** `GET /admin/usage`: requests and tokens per day, client and model, as an OpenAI-style list, and this month's use of each key's budget. */
export function adminUsage(policy: ClientPolicy, now: () => number = Date.now): GatewayMiddleware {
  return async function usage(ctx) {
    const query = parseUsageQuery(ctx.query, utcDate(now()));
    ctx.body = { object: 'list', data: await policy.readUsage(query), month: await policy.readMonth() };
  };
}
