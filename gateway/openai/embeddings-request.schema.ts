import type { OpenAIEmbeddingRequest } from './types.ts';
import { compileValidator } from './validate.ts';

/** The OpenAI Embeddings request. Token-id input (arrays of numbers) is not accepted: the upstreams take text. */
export const embeddingsRequestSchema = {
  type: 'object',
  required: ['model', 'input'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1 },
    input: {
      description:
        'expected a non-empty string or an array of 1 to 2048 non-empty strings (token ids are not supported)',
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'string', minLength: 1 } },
      ],
    },
    dimensions: { type: 'integer', minimum: 1 },
    encoding_format: { enum: ['float', 'base64'] },
    user: { type: 'string' },
  },
};

/** Checks an Embeddings body; throws a 400 naming the offending parameter. */
export const validateEmbeddingsRequest = compileValidator<OpenAIEmbeddingRequest>(embeddingsRequestSchema);
