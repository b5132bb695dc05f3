/** A test for model names against a client's allowed-model patterns. */
export type ModelMatcher = (model: string) => boolean;

function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'i');
}

/**
 * Compiles glob patterns (`*` = any run of characters, case-insensitive); undefined allows every
 * model. A `provider/model` name matches by its full name or by the part after the slash, so
 * `GigaChat-*` also allows `gigachat/GigaChat-2-Max`.
 */
export function compileModelPatterns(patterns: readonly string[] | undefined): ModelMatcher {
  if (patterns === undefined || patterns.includes('*')) return () => true;
  const expressions = patterns.map(patternToRegExp);
  const matches = (name: string) => expressions.some((expression) => expression.test(name));
  return (model) => {
    if (matches(model)) return true;
    const slash = model.indexOf('/');
    return slash !== -1 && matches(model.slice(slash + 1));
  };
}
