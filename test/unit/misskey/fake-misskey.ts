import type { FetchFn } from '../../../src-main/services/misskey/misskey-client';

/** A canned answer: status and body (object → JSON, string → as is, undefined → empty). */
export interface Canned {
  readonly status: number;
  readonly body?: unknown;
}

/** A fetch that answers by endpoint name, recording every request's endpoint and JSON body. */
export function fakeFetch(handler: (endpoint: string, body: Record<string, unknown>) => Canned | Promise<Canned>): {
  fetch: FetchFn;
  calls: { endpoint: string; body: Record<string, unknown> }[];
} {
  const calls: { endpoint: string; body: Record<string, unknown> }[] = [];
  const fetch: FetchFn = async (input, init) => {
    const endpoint = new URL(input).pathname.replace(/^\/api\//, '');
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    calls.push({ endpoint, body });
    const c = await handler(endpoint, body);
    const text = c.body === undefined ? null : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    return new Response(c.status === 204 ? null : text, { status: c.status });
  };
  return { fetch, calls };
}

/** Envelopes exactly as misskey.md §10 shows them. */
export const ENVELOPES = {
  incorrectInitialPassword: {
    status: 400,
    body: {
      error: {
        message: 'Initial password is incorrect.',
        code: 'INCORRECT_INITIAL_PASSWORD',
        id: '97147c55-1ae1-4f6f-91d6-e1c3e0e76d62',
        kind: 'client',
      },
    },
  },
  credentialRequired: {
    status: 401,
    body: {
      error: { message: 'Credential required.', code: 'CREDENTIAL_REQUIRED', id: '1384574d-a912-4b81-8601-c7b1c4085df1', kind: 'client' },
    },
  },
  accessDenied: {
    status: 400,
    body: { error: { message: 'Access denied.', code: 'ACCESS_DENIED', id: '1fb7cb09-d46a-4fff-b8df-057708cce513', kind: 'client' } },
  },
  duplicatedUsername: {
    status: 500,
    body: {
      error: {
        message: 'Internal error occurred. Please contact us if the error persists.',
        code: 'INTERNAL_ERROR',
        id: '5d37dbcb-891e-41ca-a3d6-e690c97775ac',
        kind: 'server',
        info: { e: { message: 'DUPLICATED_USERNAME', code: 'Error', id: '3b7c335c-0000-0000-0000-000000000000' } },
      },
    },
  },
  invalidParam: {
    status: 400,
    body: {
      error: {
        message: 'Invalid param.',
        code: 'INVALID_PARAM',
        id: '3d81ceae-475f-4600-b2a8-2bc116157532',
        kind: 'client',
        info: { param: '#/properties/blockedHosts/type', reason: 'must be array' },
      },
    },
  },
  rolePermissionDenied: {
    status: 403,
    body: {
      error: {
        message: 'You are not assigned to an administrator role.',
        code: 'ROLE_PERMISSION_DENIED',
        id: 'c3d38592-54c0-429d-be96-5636b0431a61',
        kind: 'permission',
      },
    },
  },
  permissionDenied: {
    status: 403,
    body: {
      error: {
        message: 'Your app does not have the necessary permissions to use this endpoint.',
        code: 'PERMISSION_DENIED',
        id: '1370e5b7-d4eb-4566-bb1d-7748ee6a1838',
        kind: 'permission',
      },
    },
  },
  authenticationFailed: {
    status: 401,
    body: {
      error: {
        message: 'Authentication failed. Please ensure your token is correct.',
        code: 'AUTHENTICATION_FAILED',
        id: 'b0a7f5f8-dc2f-4171-b91f-de88ad238e14',
        kind: 'client',
      },
    },
  },
  invalidUrl: {
    status: 400,
    body: { error: { message: 'Invalid URL', code: 'INVALID_URL', id: 'fb8c92d3-d4e5-44e7-b3d4-800d5cef8b2c', kind: 'client' } },
  },
  duplicateKey: internal('duplicate key value violates unique constraint "IDX_0d9a1738f2cf7f3b1c3334dfab"', 'QueryFailedError'),
  relayNotFound: internal('relay not found'),
  instanceNotFound: internal('instance not found'),
  userNotFound: internal('user not found'),
  cannotSuspendModerator: internal('cannot suspend moderator account'),
  noSuchUser: {
    status: 404,
    body: { error: { message: 'No such user.', code: 'NO_SUCH_USER', id: '4362f8dc-731f-4ad8-a694-be5a88922a24', kind: 'client' } },
  },
  suspended: {
    status: 403,
    body: {
      error: {
        message: 'Your account has been suspended.',
        code: 'YOUR_ACCOUNT_SUSPENDED',
        id: 'a8c724b3-6e9c-4b46-b1a8-bc3ed6258370',
        kind: 'permission',
      },
    },
  },
  fastifyNotFound: {
    status: 404,
    body: { message: 'Route POST:/api/admin/does-not-exist not found', error: 'Not Found', statusCode: 404 },
  },
  fastifyInvalidJson: {
    status: 400,
    body: {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      error: 'Bad Request',
      message: "Body is not valid JSON but content-type is set to 'application/json'",
    },
  },
  methodNotAllowed: { status: 405 },
  badGateway: { status: 502, body: '<html>502 Bad Gateway</html>' },
} satisfies Record<string, Canned>;

function internal(message: string, code = 'Error'): Canned {
  return {
    status: 500,
    body: {
      error: {
        message: 'Internal error occurred. Please contact us if the error persists.',
        code: 'INTERNAL_ERROR',
        id: '5d37dbcb-891e-41ca-a3d6-e690c97775ac',
        kind: 'server',
        info: { e: { message, code, id: crypto.randomUUID() } },
      },
    },
  };
}
