/** The API's one error shape, `{ error: { code, message, field? } }`, and the handlers that produce it. */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ConfigError } from '../config/errors.js';
import type { ApiErrorBody } from '../defs/api.js';

/** An error with an HTTP status and a stable code, thrown by routes and hooks. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Builds an error body. */
export function errorBody(code: string, message: string, field?: string): ApiErrorBody {
  return { error: field ? { code, message, field } : { code, message } };
}

/** Sends an error body with its status. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string, field?: string) {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(errorBody(code, message, field));
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', message: 'request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'expected Content-Type: application/json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'bad_request',
    message: 'Content-Length does not match the body',
  },
};

/** Installs the error and not-found handlers so that no stack trace or framework message reaches a client. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) return sendError(reply, err.statusCode, err.code, err.message, err.field);
    if (err instanceof ConfigError) {
      const first = err.problems[0]!;
      return sendError(
        reply,
        400,
        'invalid_config',
        err.problems.map((p) => `${p.field}: ${p.message}`).join('; '),
        first.field,
      );
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const first = err.validation[0]!;
      const where = (err as { validationContext?: string }).validationContext ?? 'body';
      const field = first.instancePath.replace(/^\//, '').replace(/\//g, '.') || where;
      return sendError(reply, 400, 'invalid_request', `${field}: ${first.message}`, field);
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) return sendError(reply, known.status, known.code, known.message);
    if (err instanceof SyntaxError && (err as { statusCode?: number }).statusCode === 400) {
      return sendError(reply, 400, 'invalid_json', 'the body is not valid JSON');
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'unhandled error in route');
      return sendError(reply, 500, 'internal', 'internal error; see the node log');
    }
    if (status === 429) return sendError(reply, 429, 'rate_limited', err.message || 'too many requests');
    return sendError(reply, status, 'bad_request', err.message);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );
}
