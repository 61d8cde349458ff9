/**
 * How an endpoint is declared and called. `defineEndpoint` ties each handler to misskey-js's
 * `Endpoints[name]['req'|'res']`, so a contract change in misskey-js breaks the build, and
 * `callEndpoint` applies ApiCallService's checks in Misskey's order: credential, suspension,
 * moderator/admin role, role policy, app-token permission, then param validation.
 */
import type { Endpoints, entities } from 'misskey-js';
import { ApiError, E } from './api-error';
import { validateParams, type ObjectSchema } from './param-schema';
import { getMeta, isAdministrator, isModerator, type AppToken, type Deps, type UserRow } from './state';

/** Endpoint flags, named as in Misskey's endpoint `meta`. */
export interface EndpointMeta {
  readonly requireCredential?: boolean;
  readonly requireModerator?: boolean;
  readonly requireAdmin?: boolean;
  readonly requireRolePolicy?: keyof entities.RolePolicies;
  /** The token permission the endpoint needs (misskey-js `permissions`). */
  readonly kind?: string;
  /** Native tokens only (app tokens get ACCESS_DENIED). */
  readonly secure?: boolean;
  /** multipart/form-data with a `file` part. */
  readonly requireFile?: boolean;
}

/** Who is calling: `app` is null for native tokens and anonymous calls. */
export interface CallContext {
  readonly deps: Deps;
  readonly me: UserRow | null;
  readonly app: AppToken | null;
}

/** Responses declared with `$switch` (users/show) are the union of their cases. */
export type Res<N extends keyof Endpoints> = Endpoints[N]['res'] extends { $switch: { $cases: [[unknown, infer C]]; $default: infer D } }
  ? C | D
  : Endpoints[N]['res'];

/** A handler typed by misskey-js; returning undefined means 204 No Content. */
export type Handler<N extends keyof Endpoints> = (ps: Endpoints[N]['req'], ctx: CallContext) => Promise<Res<N>>;

/** A registered endpoint with its types erased for the router. */
export interface AnyEndpoint {
  readonly name: string;
  readonly meta: EndpointMeta;
  readonly params: ObjectSchema;
  readonly exec: (ps: Record<string, unknown>, ctx: CallContext) => Promise<unknown>;
}

export function defineEndpoint<N extends keyof Endpoints>(
  name: N,
  meta: EndpointMeta,
  params: ObjectSchema,
  handler: Handler<N>,
): AnyEndpoint {
  // The router validates params against `params` before calling, which is what makes this cast honest.
  return { name, meta, params, exec: (ps, ctx) => handler(ps as Endpoints[N]['req'], ctx) };
}

/** ApiCallService.call: access checks, then validation, then the handler. */
export async function callEndpoint(ep: AnyEndpoint, ps: Record<string, unknown>, ctx: CallContext): Promise<unknown> {
  const { me, app } = ctx;
  const m = ep.meta;
  if (m.secure && !(me !== null && app === null)) throw new ApiError(E.secureAccessDenied);
  if (m.requireCredential || m.requireModerator || m.requireAdmin) {
    if (me === null) throw new ApiError(E.credentialRequired);
    if (me.isSuspended) throw new ApiError(E.suspended);
  }
  if (me !== null && (m.requireModerator || m.requireAdmin || m.requireRolePolicy)) {
    const meta = await getMeta(ctx.deps.pool);
    if (meta.rootUserId !== me.id) {
      if (m.requireModerator && !isModerator(me, meta.rootUserId)) throw new ApiError(E.notModerator);
      if (m.requireAdmin && !isAdministrator(me, meta.rootUserId)) throw new ApiError(E.notAdmin);
      if (m.requireRolePolicy && !meta.policies[m.requireRolePolicy] && !isAdministrator(me, meta.rootUserId)) {
        throw new ApiError(E.noRolePolicy);
      }
    }
  }
  if (app !== null) {
    const needsKind = m.kind !== undefined && !app.permission.includes(m.kind);
    const noKindButCredential = m.kind === undefined && (m.requireCredential || m.requireModerator || m.requireAdmin);
    if (needsKind || noKindButCredential) throw new ApiError(E.permissionDenied);
  }
  validateParams(ep.params, ps);
  return ep.exec(ps, ctx);
}
