/** The `type` strings OpenAI's API puts in its error bodies. */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'insufficient_quota'
  | 'rate_limit_error'
  | 'api_error'
  | 'server_error';

/** OpenAI's error body: `{"error": {message, type, param, code}}`. */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: OpenAIErrorType;
    param: string | null;
    code: string | null;
  };
}

interface GatewayErrorOptions {
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error that becomes an OpenAI-shaped HTTP answer. Everything the gateway answers with goes through it. */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, type: OpenAIErrorType, message: string, options: GatewayErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: the request is malformed or asks for something this gateway or the model cannot do. */
export class BadRequestError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(400, 'invalid_request_error', message, options);
  }
}

/** 401: no client key, or a wrong one. */
export class AuthenticationError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(401, 'invalid_request_error', message, { code: 'invalid_api_key', ...options });
  }
}

/** 402: the upstream account ran out of paid tokens. Not 429, which the SDKs would retry. */
export class InsufficientQuotaError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(402, 'insufficient_quota', message, { code: 'insufficient_quota', ...options });
  }
}

/** 403: the upstream refused this operation for our account. */
export class PermissionDeniedError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(403, 'permission_error', message, options);
  }
}

/** 404: unknown route or unknown model. */
export class NotFoundError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(404, 'invalid_request_error', message, options);
  }
}

/** 405: the route exists, the method does not. */
export class MethodNotAllowedError extends GatewayError {
  constructor(message: string, allowed: readonly string[]) {
    super(405, 'invalid_request_error', message, {
      code: 'method_not_allowed',
      headers: { allow: allowed.join(', ') },
    });
  }
}

/** 413: the request body is larger than MAX_BODY_BYTES. */
export class PayloadTooLargeError extends GatewayError {
  constructor(message: string) {
    super(413, 'invalid_request_error', message, { code: 'request_too_large' });
  }
}

/** 429: the upstream (or a limit of ours) asks the client to slow down. */
export class RateLimitError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(429, 'rate_limit_error', message, { code: 'rate_limit_exceeded', ...options });
  }
}

/** 500: a bug of ours. The message never carries internals. */
export class InternalError extends GatewayError {
  constructor(options: GatewayErrorOptions = {}) {
    super(500, 'server_error', 'The gateway failed to handle the request; the log has the details.', {
      code: 'internal_error',
      ...options,
    });
  }
}

/** 502: the upstream failed or answered something unusable. */
export class UpstreamError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(502, 'api_error', message, { code: 'upstream_error', ...options });
  }
}

/** 503: the gateway cannot serve this now (provider not configured, not ready). */
export class ServiceUnavailableError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(503, 'api_error', message, options);
  }
}

/** 504: the upstream did not answer in time. */
export class UpstreamTimeoutError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(504, 'api_error', message, { code: 'upstream_timeout', ...options });
  }
}

/**
 * Any thrown value → the GatewayError to answer with. Client errors raised by libraries
 * (`http-errors` with an exposed 4xx status) keep their status; everything else is a 500.
 */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const candidate = error as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (
    typeof candidate?.status === 'number' &&
    candidate.status >= 400 &&
    candidate.status < 500 &&
    candidate.expose === true
  ) {
    return new GatewayError(candidate.status, 'invalid_request_error', String(candidate.message));
  }
  return new InternalError();
}
