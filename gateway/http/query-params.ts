import { BadRequestError } from '../openai/errors.ts';
import type { GatewayContext } from './state.ts';

/** A request's query parameters, each allowed once, as the list routes (files, input items) read them. */
export function queryParams(ctx: GatewayContext) {
  const one = (name: string): string | undefined => {
    const value = ctx.query[name];
    if (Array.isArray(value)) throw new BadRequestError(`Send '${name}' once.`, { param: name });
    return value;
  };
  return {
    one,
    /** A whole number from `min` to `max`, or undefined when absent; anything else is a 400 naming it. */
    integer(name: string, min: number, max: number): number | undefined {
      const text = one(name);
      if (text === undefined) return undefined;
      const value = Number(text);
      if (text === '' || !Number.isInteger(value) || value < min || value > max) {
        throw new BadRequestError(`${name} must be a whole number from ${min} to ${max}.`, { param: name });
      }
      return value;
    },
    /** `asc` or `desc` (default `desc`), as OpenAI's list routes take `order`. */
    order(): 'asc' | 'desc' {
      const order = one('order') ?? 'desc';
      if (order !== 'asc' && order !== 'desc') {
        throw new BadRequestError("order must be 'asc' or 'desc'.", { param: 'order' });
      }
      return order;
    },
  };
}
