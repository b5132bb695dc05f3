import { BadRequestError } from './errors.ts';

/** A model name taken apart: the explicit provider, if any, and the upstream model id. */
export interface ModelName {
  /** The `provider/` prefix, lower-cased; undefined when the name leaves routing to the model id. */
  provider: string | undefined;
  /** The upstream model id: `tunedModels/<id>` for a tuned model, a bare id otherwise (`models/` dropped). */
  model: string;
}

/**
 * The one grammar of model names a client may send (README, "Model names"), unless the name is a
 * configured alias: `[provider "/"] ["models/" | "tunedModels/"] id`. An id is a letter or digit,
 * then letters, digits, `.`, `_` or `-`, 128 characters at most: one URL path segment that needs
 * no encoding. So no spelling can add a path segment (`/`, `..`), a query (`?`), a fragment (`#`),
 * a Gemini action (`:countTokens`), an escape (`%2F`) or a header break (CR/LF) to an upstream call.
 */
const MODEL_NAME =
  /^(?:(?!models\/|tunedModels\/)([A-Za-z][A-Za-z0-9-]{0,31})\/)?(?:models\/|(tunedModels\/))?([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;

/** Parses a model name by the grammar above; a name outside it is a 400 naming `model`. */
export function parseModelName(name: string): ModelName {
  const match = MODEL_NAME.exec(name);
  if (match === null) {
    // JSON quoting shows control characters and lone surrogates as escapes, never raw.
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
    throw new BadRequestError(
      `The model name ${shown} is not valid: use an id of letters, digits, '.', '_' and '-' (at most 128), ` +
        "optionally after 'provider/' and 'models/' or 'tunedModels/' (e.g. gemini/gemini-2.5-flash).",
      { param: 'model', code: 'invalid_model_name' },
    );
  }
  const [, provider, tuned, id] = match as unknown as [string, string | undefined, string | undefined, string];
  return { provider: provider?.toLowerCase(), model: tuned === undefined ? id : `${tuned}${id}` };
}
