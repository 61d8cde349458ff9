import { api, type Endpoints } from 'misskey-js';
import { AppError, isAppError } from '../../shared/errors';
import { mapApiError, mapHttpFailure, mapNetworkError } from './misskey-errors';

/** The fetch the client sends through; replace it to route over an SSH tunnel or trust a LAN CA. */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface MisskeyClientOptions {
  /** `https://<domain>`, no trailing slash needed. */
  readonly origin: string;
  readonly token?: string | null;
  /** Hook for the transport (default: the global fetch). */
  readonly fetch?: FetchFn;
  /** Per-call timeout in ms (default 15 s). */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Overrides the client's token for this call; `null` sends none. */
  readonly credential?: string | null;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

type Req<E extends keyof Endpoints> = Endpoints[E]['req'];
type Res<E extends keyof Endpoints> = Endpoints[E]['res'];

/**
 * misskey-js's `api.APIClient` with what a desktop app needs around it: a timeout per call
 * (AbortSignal), a replaceable fetch, and every failure turned into an `AppError`
 * (misskey-errors.ts). One APIClient per call, so each call carries its own signal.
 */
export class MisskeyClient {
  readonly origin: string;
  private readonly token: string | null;
  private readonly baseFetch: FetchFn;
  private readonly timeoutMs: number;

  constructor(opts: MisskeyClientOptions) {
    this.origin = opts.origin.replace(/\/+$/, '');
    this.token = opts.token ?? null;
    this.baseFetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  withToken(token: string | null): MisskeyClient {
    return new MisskeyClient({ origin: this.origin, token, fetch: this.baseFetch, timeoutMs: this.timeoutMs });
  }

  async request<E extends keyof Endpoints>(endpoint: E, params: Req<E>, opts: CallOptions = {}): Promise<Res<E>> {
    return (await this.call(endpoint, params as Record<string, unknown>, opts)) as Res<E>;
  }

  /** For paths misskey-js has no type for (e.g. `miauth/<session>/check`). */
  async requestUntyped(endpoint: string, params: Record<string, unknown>, opts: CallOptions = {}): Promise<unknown> {
    return this.call(endpoint, params, opts);
  }

  private async call(endpoint: string, params: Record<string, unknown>, opts: CallOptions): Promise<unknown> {
    if (opts.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let status = 0;
    const wrapped: api.FetchLike = async (input, init) => {
      const res = await this.baseFetch(input, { ...(init as RequestInit), signal });
      status = res.status;
      if (res.status === 200 || res.status === 204) {
        return {
          status: res.status,
          json: async () => {
            const text = await res.text();
            try {
              return JSON.parse(text) as unknown;
            } catch {
              throw new AppError('MISSKEY_API_ERROR', 'The answer is not Misskey JSON', { endpoint, status, reason: 'not-json' });
            }
          },
        };
      }
      const text = await res.text();
      let body: { error?: { code?: unknown } } | undefined;
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = undefined;
      }
      if (body && typeof body.error === 'object' && body.error !== null && typeof body.error.code === 'string') {
        return { status: res.status, json: async () => body };
      }
      const failure = mapHttpFailure(res.status, endpoint, text);
      return {
        status: res.status,
        json: async () => {
          throw failure;
        },
      };
    };
    const client = new api.APIClient({ origin: this.origin, credential: this.token, fetch: wrapped });
    try {
      const credential = opts.credential === undefined ? undefined : opts.credential;
      return await (client.request as (e: string, p: unknown, c?: string | null) => Promise<unknown>)(endpoint, params, credential);
    } catch (e) {
      if (isAppError(e)) throw e;
      if (e !== null && typeof e === 'object' && api.isAPIError(e as Record<PropertyKey, unknown>)) throw mapApiError(e, endpoint, status);
      if (timeout.aborted) throw new AppError('TIMEOUT', `${endpoint} took too long`, { endpoint });
      if (opts.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled');
      throw mapNetworkError(e, this.origin);
    }
  }
}
