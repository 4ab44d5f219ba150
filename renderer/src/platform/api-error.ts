/** API failures as values the UI can branch on. */
import type { ApiErrorBody } from '../../../app/defs/api.js';

/** An HTTP error from the core: status plus the core's `{ code, message, field? }`. Status 0 means unreachable. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Reads an error response; bodies that are not `{ error: {...} }` (a proxy page, an empty 502) still become an ApiError. */
export async function toApiError(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as Partial<ApiErrorBody>;
    if (body.error && typeof body.error.message === 'string') {
      return new ApiError(res.status, body.error.code ?? 'error', body.error.message, body.error.field);
    }
  } catch {
    // fall through: not JSON
  }
  return new ApiError(res.status, 'http_' + res.status, `${res.status} ${res.statusText}`.trim());
}

/** True when the error means "not signed in (any more)". */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}
