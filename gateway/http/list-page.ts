import { BadRequestError } from '../openai/errors.ts';

/** One page of an OpenAI list (`after`, `limit`), shaped as `{object: 'list', data, first_id, last_id, has_more}`. */
export function listPage<T, S>(
  items: readonly T[],
  options: {
    after: string | undefined;
    limit: number;
    idOf: (item: T) => string | undefined;
    show: (item: T) => S;
    what: string;
  },
) {
  let rest = items;
  if (options.after !== undefined) {
    const index = items.findIndex((item) => options.idOf(item) === options.after);
    if (index < 0) throw new BadRequestError(`after names no ${options.what}.`, { param: 'after' });
    rest = items.slice(index + 1);
  }
  const page = rest.slice(0, options.limit);
  return {
    object: 'list' as const,
    data: page.map(options.show),
    first_id: (page[0] === undefined ? undefined : options.idOf(page[0])) ?? null,
    last_id: (page.at(-1) === undefined ? undefined : options.idOf(page.at(-1) as T)) ?? null,
    has_more: rest.length > options.limit,
  };
}
