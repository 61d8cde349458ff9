/**
 * MiAuth, the desktop-friendly token flow (misskey.md §1.2). `GET /miauth/<session>` is where
 * Misskey's web UI asks the signed-in user to approve; the double has no web UI, so its page is
 * a plain sign-in-and-approve form (username + password). `POST /api/miauth/<session>/check`
 * behaves like ApiServerService's: `{ok:true, token, user}` once after approval, else `{ok:false}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { genId, secureRndstr } from './ids';
import { packUserDetailed } from './pack-user';
import { findUserById, findUserByName, getMeta, verifyPassword, type Deps } from './state';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The approval page for `GET /miauth/<session>?name=&permission=&callback=`. */
export function miauthPage(res: ServerResponse, session: string, q: URLSearchParams, error?: string): void {
  const name = q.get('name') ?? '(unnamed app)';
  const perms = (q.get('permission') ?? '').split(',').filter((p) => p !== '');
  const html = `<!doctype html><meta charset="utf-8"><title>MiAuth — Misskey API double</title>
<h1>Misskey API double: approve an app</h1>
<p>This is Ohitori's test stand-in for Misskey, not Misskey.</p>
<p>App <b id="app-name">${esc(name)}</b> asks for: <span id="permissions">${perms.map(esc).join(', ') || '(none)'}</span></p>
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/miauth/${esc(session)}/approve?${esc(q.toString())}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit" id="approve">Approve</button></form>`;
  res.writeHead(error ? 400 : 200, { 'content-type': 'text/html; charset=utf-8', 'x-ohitori-double': '1' }).end(html);
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) text += (chunk as Buffer).toString('utf8');
  return new URLSearchParams(text);
}

/** `POST /miauth/<session>/approve`: sign in, create the app token, go back to the callback. */
export async function miauthApprove(
  req: IncomingMessage,
  res: ServerResponse,
  deps: Deps,
  session: string,
  q: URLSearchParams,
): Promise<void> {
  const form = await formBody(req);
  const user = await findUserByName(deps.pool, form.get('username') ?? '', null);
  if (!user?.password || !(await verifyPassword(form.get('password') ?? '', user.password))) {
    miauthPage(res, session, q, 'Wrong username or password.');
    return;
  }
  const perms = (q.get('permission') ?? '').split(',').filter((p) => p !== '');
  await deps.pool.query(
    `INSERT INTO "access_token" ("id", "createdAt", "token", "userId", "name", "permission", "session") VALUES ($1, now(), $2, $3, $4, $5, $6)`,
    [genId(deps.cfg.id), secureRndstr(32), user.id, q.get('name'), perms, session],
  );
  const callback = q.get('callback');
  if (callback) {
    const to = new URL(callback);
    to.searchParams.set('session', session);
    res.writeHead(302, { location: to.toString(), 'x-ohitori-double': '1' }).end();
  } else {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-ohitori-double': '1' })
      .end('<!doctype html><meta charset="utf-8"><p id="done">Approved. You can close this window.</p>');
  }
}

/** `POST /api/miauth/<session>/check`: the token is handed out once. */
export async function miauthCheck(deps: Deps, session: string): Promise<Record<string, unknown>> {
  const r = await deps.pool.query<{ id: string; token: string; userId: string; fetched: boolean }>(
    `SELECT "id", "token", "userId", "fetched" FROM "access_token" WHERE "session" = $1`,
    [session],
  );
  const t = r.rows[0];
  if (!t || t.fetched) return { ok: false };
  await deps.pool.query(`UPDATE "access_token" SET "fetched" = true WHERE "id" = $1`, [t.id]);
  const user = await findUserById(deps.pool, t.userId);
  const meta = await getMeta(deps.pool);
  return {
    ok: true,
    token: t.token,
    user: user ? packUserDetailed(user, { url: deps.cfg.url, rootUserId: meta.rootUserId, policies: meta.policies }, false) : null,
  };
}
