/**
 * Misskey's error envelope, ids and HTTP status rules (ApiCallService#sendApiError), so that
 * misskey-js's `api.isAPIError` and the app's error mapping see exactly what a real server sends.
 */
import { randomUUID } from 'node:crypto';

export type ErrorKind = 'client' | 'server' | 'permission';

/** One Misskey error definition, as in an endpoint's `meta.errors`. */
export interface ErrorDef {
  readonly message: string;
  readonly code: string;
  readonly id: string;
  readonly kind?: ErrorKind;
  readonly httpStatusCode?: number;
}

/** Thrown by handlers for typed Misskey errors; anything else becomes INTERNAL_ERROR. */
export class ApiError extends Error {
  readonly code: string;
  readonly id: string;
  readonly kind: ErrorKind;
  readonly httpStatusCode: number | undefined;
  readonly info: unknown;

  constructor(def: ErrorDef, info?: unknown) {
    super(def.message);
    this.code = def.code;
    this.id = def.id;
    this.kind = def.kind ?? 'client';
    this.httpStatusCode = def.httpStatusCode;
    this.info = info;
  }
}

/** Error ids copied from Misskey (ApiCallService, endpoint metas) and misskey.md §10. */
export const E = {
  internal: {
    message: 'Internal error occurred. Please contact us if the error persists.',
    code: 'INTERNAL_ERROR',
    id: '5d37dbcb-891e-41ca-a3d6-e690c97775ac',
    kind: 'server',
  },
  invalidParam: { message: 'Invalid param.', code: 'INVALID_PARAM', id: '3d81ceae-475f-4600-b2a8-2bc116157532' },
  credentialRequired: {
    message: 'Credential required.',
    code: 'CREDENTIAL_REQUIRED',
    id: '1384574d-a912-4b81-8601-c7b1c4085df1',
    httpStatusCode: 401,
  },
  authenticationFailed: {
    message: 'Authentication failed. Please ensure your token is correct.',
    code: 'AUTHENTICATION_FAILED',
    id: 'b0a7f5f8-dc2f-4171-b91f-de88ad238e14',
    httpStatusCode: 401,
  },
  suspended: {
    message: 'Your account has been suspended.',
    code: 'YOUR_ACCOUNT_SUSPENDED',
    id: 'a8c724b3-6e9c-4b46-b1a8-bc3ed6258370',
    kind: 'permission',
  },
  notModerator: {
    message: 'You are not assigned to a moderator role.',
    code: 'ROLE_PERMISSION_DENIED',
    id: 'd33d5333-db36-423d-a8f9-1a2b9549da41',
    kind: 'permission',
  },
  notAdmin: {
    message: 'You are not assigned to an administrator role.',
    code: 'ROLE_PERMISSION_DENIED',
    id: 'c3d38592-54c0-429d-be96-5636b0431a61',
    kind: 'permission',
  },
  noRolePolicy: {
    message: 'You are not assigned to a required role.',
    code: 'ROLE_PERMISSION_DENIED',
    id: '7f86f06f-7e15-4057-8561-f4b6d4ac755a',
    kind: 'permission',
  },
  permissionDenied: {
    message: 'Your app does not have the necessary permissions to use this endpoint.',
    code: 'PERMISSION_DENIED',
    id: '1370e5b7-d4eb-4566-bb1d-7748ee6a1838',
    kind: 'permission',
  },
  /** ApiCallService's own ACCESS_DENIED, for `secure` endpoints called with an app token. */
  secureAccessDenied: { message: 'Access denied.', code: 'ACCESS_DENIED', id: '56f35758-7dd5-468b-8439-5d6fb8ec9b8e' },
  accountsAccessDenied: { message: 'Access denied.', code: 'ACCESS_DENIED', id: '1fb7cb09-d46a-4fff-b8df-057708cce513' },
  incorrectInitialPassword: {
    message: 'Initial password is incorrect.',
    code: 'INCORRECT_INITIAL_PASSWORD',
    id: '97147c55-1ae1-4f6f-91d6-e1c3e0e76d62',
  },
  invalidUrl: { message: 'Invalid URL', code: 'INVALID_URL', id: 'fb8c92d3-d4e5-44e7-b3d4-800d5cef8b2c' },
  noSuchUser: { message: 'No such user.', code: 'NO_SUCH_USER', id: '4362f8dc-731f-4ad8-a694-be5a88922a24', httpStatusCode: 404 },
  failedToResolveRemoteUser: {
    message: 'Failed to resolve remote user.',
    code: 'FAILED_TO_RESOLVE_REMOTE_USER',
    id: 'ef7b9be4-9cba-4e6f-ab41-90ed171c7d3c',
    kind: 'server',
  },
  noSuchFile: { message: 'No such file.', code: 'NO_SUCH_FILE', id: 'fc46b5a4-6b92-4c33-ac66-b806659bb5cf' },
  duplicateEmojiName: { message: 'Duplicate name.', code: 'DUPLICATE_NAME', id: 'f7a3462c-4e6e-4069-8421-b9bd4f4c3975' },
} as const satisfies Record<string, ErrorDef>;

/** Body of a Misskey API error: `{"error":{message, code, id, kind, info?}}`. */
export interface ErrorEnvelope {
  error: { message: string; code: string; id: string; kind: ErrorKind; info?: unknown };
}

/** Status code and body for an ApiError, following ApiCallService#sendApiError. */
export function renderApiError(err: ApiError): { status: number; body: ErrorEnvelope; wwwAuthenticate?: string } {
  let status = err.httpStatusCode;
  let wwwAuthenticate: string | undefined;
  if (status === 401) {
    wwwAuthenticate =
      err.code === 'AUTHENTICATION_FAILED'
        ? `Bearer realm="Misskey", error="invalid_token", error_description="${err.message}"`
        : 'Bearer realm="Misskey"';
  } else if (err.kind === 'client') {
    wwwAuthenticate = `Bearer realm="Misskey", error="invalid_request", error_description="${err.message}"`;
    status = status ?? 400;
  } else if (err.kind === 'permission') {
    if (err.code === 'PERMISSION_DENIED') {
      wwwAuthenticate = `Bearer realm="Misskey", error="insufficient_scope", error_description="${err.message}"`;
    }
    status = status ?? 403;
  } else {
    status = status ?? 500;
  }
  const body: ErrorEnvelope = {
    error: { message: err.message, code: err.code, id: err.id, kind: err.kind, ...(err.info !== undefined ? { info: err.info } : {}) },
  };
  return wwwAuthenticate === undefined ? { status, body } : { status, body, wwwAuthenticate };
}

/**
 * Wraps a non-ApiError like ApiCallService#onExecError: the outer id is constant, the real
 * reason is in `info.e` with a fresh uuid. Postgres errors keep TypeORM's `QueryFailedError` name.
 */
export function toInternalError(err: unknown): ApiError {
  const e = err instanceof Error ? err : new Error(String(err));
  const isPg = typeof (e as { code?: unknown }).code === 'string' && 'severity' in e;
  return new ApiError(E.internal, { e: { message: e.message, code: isPg ? 'QueryFailedError' : e.name, id: randomUUID() } });
}

/** Fastify's 404 body for an unknown route (misskey.md §10 row 38). */
export function fastifyNotFound(method: string, url: string): { message: string; error: string; statusCode: number } {
  return { message: `Route ${method}:${url} not found`, error: 'Not Found', statusCode: 404 };
}

/** Fastify's body for unparsable JSON (misskey.md §10 row 39). */
export const fastifyInvalidJson = {
  statusCode: 400,
  code: 'FST_ERR_CTP_INVALID_JSON_BODY',
  error: 'Bad Request',
  message: "Body is not valid JSON but content-type is set to 'application/json'",
} as const;
