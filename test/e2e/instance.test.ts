/**
 * The Instance screen through the UI, in Chromium, against browser mode whose main process talks
 * to the Misskey API double on lab server B the real way: https://b.ohitori.test through that
 * server's Caddy (tls internal → localhost:3000, published by the stack like the real compose
 * file). Main trusts the lab CA via NODE_EXTRA_CA_CERTS and resolves the name with the
 * documented test hook OHITORI_TEST_RESOLVE. Server B is used so the setup-wizard tests own
 * server A's port 3000.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from 'misskey-js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../lab/env';
import { buildDoubleImage, DoubleStack } from '../integration/misskey-double/lab-stack';
import { emojiZip, PNG_1X1, thousandLineBlockList } from '../integration/misskey/fixtures';
import {
  expectAttr,
  expectCount,
  expectText,
  expectVisible,
  launchChromium,
  openApp,
  removeDir,
  startBrowserMode,
  type BrowserModeApp,
  setVaultPassphrase,
  addServerProfile,
} from './fixtures';

const SETUP = 'e2e-setup-password';
const ADMIN_PASSWORD = 'admin password e2e';
const VAULT = 'vault passphrase e2e';

let lab: LabEnv;
let stack: DoubleStack;
let app: BrowserModeApp;
let browser: Browser;
let page: Page;
let work: string;
let root: api.APIClient;
let seed: { tokens: { root: string; limitedReadOnly: { token: string } } };

const env = (): NodeJS.ProcessEnv => ({
  NODE_EXTRA_CA_CERTS: lab.caddyCaPath,
  OHITORI_TEST_RESOLVE: `${lab.servers.b.domain}:${lab.servers.b.ip}`,
});

async function open(locale = 'en-US'): Promise<Page> {
  const p = await openApp(browser, app, locale);
  p.on('dialog', (d) => void d.accept());
  // A render crash shows only as the error boundary; print it so a failure says why.
  p.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  return p;
}

const screen = () => page.locator('[data-instance-screen]');
const status = () => page.locator('[data-instance-status]');

beforeAll(async () => {
  lab = loadLabEnv();
  stack = new DoubleStack(lab, 'b', await buildDoubleImage(lab, 'b'), { setupPassword: SETUP, loopback3000: true });
  await stack.up();
  work = await mkdtemp(join(tmpdir(), 'ohitori-instance-e2e-'));
  app = await startBrowserMode({ env: env() });
  browser = await launchChromium([`--host-resolver-rules=MAP ${lab.servers.b.domain} ${lab.servers.b.ip}`]);
  page = await open();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  if (app) await removeDir(app.dataDir);
  await stack?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('browser mode: the Instance screen against the double behind Caddy on server B', () => {
  it('keeps secrets with a passphrase and adds a server profile for b.ohitori.test', async () => {
    await setVaultPassphrase(page, VAULT);

    await addServerProfile(page, { name: 'Lab B', host: lab.servers.b.ip, user: 'ohadmin', auth: 'agent', domain: lab.servers.b.domain });
  });

  it('creates the first administrator: a wrong setup password is refused in words, then the preset is read back', async () => {
    await page.click('[data-route="instance"]');
    await expectAttr(status(), 'data-reachable', 'true');
    await expectAttr(status(), 'data-require-setup', 'true');
    await expectText(status(), `https://${lab.servers.b.domain}`);
    const form = page.locator('[data-form="first-admin"]');
    await form.locator('input[name="admin-password"]').fill(ADMIN_PASSWORD);
    await form.locator('input[name="setup-password"]').fill('wrong');
    await form.getByRole('button', { name: 'Create and apply the preset' }).click();
    await expectText(form.locator('[data-error-code="MISSKEY_SETUP_PASSWORD_WRONG"]'), 'The setup password is not right.');
    await form.locator('input[name="admin-password"]').fill(ADMIN_PASSWORD);
    await form.locator('input[name="setup-password"]').fill(SETUP);
    await form.getByRole('button', { name: 'Create and apply the preset' }).click();
    await expectAttr(status(), 'data-connected', 'true');
    await expectAttr(status(), 'data-token-kind', 'native');
    const row = (k: string) => page.locator(`[data-setting="${k}"]`);
    await expectAttr(row('singleUserMode'), 'data-value', 'true');
    await expectAttr(row('federation'), 'data-value', 'all');
    await expectAttr(row('disableRegistration'), 'data-value', 'true');
    await expectAttr(row('enableIpLogging'), 'data-value', 'false');
    await expectAttr(row('entrancePageStyle'), 'data-value', 'simple');
    await expectAttr(row('cacheRemoteFiles'), 'data-value', 'false');
    await expectText(row('singleUserMode'), 'Yes');
    await expectCount(page.locator('[data-form="first-admin"]'), 0);
    expect(await page.content()).not.toContain(ADMIN_PASSWORD);

    seed = JSON.parse(
      (await stack.exec('web', ['node', '/double/server.mjs', 'seed', '--users', '2', '--notes', '0', '--files', '0'])).toString('utf8'),
    );
    root = new api.APIClient({ origin: stack.url, credential: seed.tokens.root });
  });

  it('toggles the remote file cache (read back) and runs the clean-up job', async () => {
    const cache = page.locator('[data-cache-remote-files]');
    await cache.locator('input[name="cache-remote-files"]').click();
    await expectAttr(cache, 'data-cache-remote-files', 'true');
    await expectAttr(page.locator('[data-setting="cacheRemoteFiles"]'), 'data-value', 'true');
    await cache.locator('input[name="cache-remote-files"]').click();
    await expectAttr(cache, 'data-cache-remote-files', 'false');
    expect((await root.request('admin/meta', {})).cacheRemoteFiles).toBe(false);
    await page.locator('[data-section="remote-files"]').getByRole('button', { name: 'Delete cached remote files' }).click();
    await expectAttr(page.locator('[data-job-kind="instance-clean-remote-files"]'), 'data-job-state', 'done');
    await expectVisible(page.locator('[data-disk-usage="not-measured"]'));
  });

  it('edits the instance profile', async () => {
    const form = page.locator('[data-form="profile"]');
    await form.locator('input[name="instance-name"]').fill('おひとりさま e2e');
    await form.locator('textarea[name="instance-description"]').fill('説明文');
    await form.locator('input[name="instance-theme-color"]').fill('#336699');
    await form.locator('input[name="instance-icon-url"]').fill(`https://${lab.servers.b.domain}/icon.png`);
    await form.getByRole('button', { name: 'Save' }).click();
    await expectVisible(form.locator('[data-saved]'));
    await expectAttr(page.locator('[data-setting="name"]'), 'data-value', 'おひとりさま e2e');
    expect(await root.request('admin/meta', {})).toMatchObject({ themeColor: '#336699', description: '説明文' });
  });

  it('adds relays (https only) with their state and removes them', async () => {
    const form = page.locator('[data-form="relays"]');
    await form.locator('input[name="relay-inbox"]').fill('http://relay.e2e.example/inbox');
    await form.getByRole('button', { name: 'Add relay' }).click();
    await expectText(form.locator('[data-error-code="INVALID_ARGUMENT"]'), 'Some of what was entered is not valid.');
    await expectVisible(form.locator('[data-invalid-field="inbox"]'));
    await form.locator('input[name="relay-inbox"]').fill('https://relay.e2e.example/inbox');
    await form.getByRole('button', { name: 'Add relay' }).click();
    const relay = form.locator('[data-relay-inbox="https://relay.e2e.example/inbox"]');
    await expectAttr(relay, 'data-relay-status', 'requesting');
    await expectText(relay, 'requesting');
    await relay.getByRole('button', { name: 'Remove' }).click();
    await expectCount(form.locator('[data-relay-inbox="https://relay.e2e.example/inbox"]'), 0);
  });

  it('blocks hosts; a change made elsewhere meanwhile is refused and shown; a 1,000-line import is previewed and applied', async () => {
    const form = page.locator('[data-form="blocks"]');
    await form.getByRole('button', { name: 'Reload' }).click();
    await form.locator('input[name="block-host"]').fill('Evil.Example');
    await form.getByRole('button', { name: 'Block', exact: true }).click();
    await expectVisible(form.locator('[data-blocked-host="evil.example"]'));

    // Someone changes the list in Misskey's web UI while this screen shows the old one.
    const now = (await root.request('admin/meta', {})).blockedHosts;
    await root.request('admin/update-meta', { blockedHosts: [...now, 'elsewhere.example'] });
    await form.locator('input[name="block-host"]').fill('mine.example');
    await form.getByRole('button', { name: 'Block', exact: true }).click();
    await expectText(form.locator('[data-error-code="MISSKEY_CHANGED_ELSEWHERE"]'), 'The list was changed elsewhere');
    await expectVisible(form.locator('[data-blocked-host="elsewhere.example"]'));
    expect((await root.request('admin/meta', {})).blockedHosts).not.toContain('mine.example');
    await form.getByRole('button', { name: 'Block', exact: true }).click();
    await expectVisible(form.locator('[data-blocked-host="mine.example"]'));
    expect((await root.request('admin/meta', {})).blockedHosts).toEqual(expect.arrayContaining(['elsewhere.example', 'mine.example']));

    const pre = Array.from({ length: 50 }, (_, i) => `pre${i}.example`);
    const base = (await root.request('admin/meta', {})).blockedHosts;
    await root.request('admin/update-meta', { blockedHosts: [...base, ...pre] });
    const imp = page.locator('[data-section="block-import"]');
    await imp.locator('textarea[name="block-import-text"]').fill(thousandLineBlockList('e2e', pre));
    await imp.getByRole('button', { name: 'Preview' }).click();
    const preview = imp.locator('[data-import-preview]');
    await expectAttr(preview, 'data-added', '600');
    await expectAttr(preview, 'data-duplicates', '200');
    await expectAttr(preview, 'data-invalid', '150');
    await expectAttr(preview, 'data-already', '50');
    await expectText(preview, '1000 entries: 600 to add, 200 duplicates, 150 invalid, 50 already blocked.');
    await imp.getByRole('button', { name: 'Block 600 hosts' }).click();
    await expectAttr(page.locator('[data-job-kind="instance-blocks-import"]'), 'data-job-state', 'done');
    await expectAttr(form.locator('[data-blocked-count]'), 'data-blocked-count', String(base.length + 50 + 600));
    await expectText(form.locator('[data-blocked-count]'), `${base.length + 650} hosts blocked. The first 300 are listed.`);
    expect((await root.request('admin/meta', {})).blockedHosts).toHaveLength(base.length + 650);
  });

  it('stops delivery to a known host; an unknown one is “could not be found”', async () => {
    const form = page.locator('[data-section="delivery"]');
    await form.locator('input[name="delivery-host"]').fill('spam.example');
    await form.getByRole('button', { name: 'Stop delivery' }).click();
    await expectText(form.locator('[data-delivery-done]'), 'Delivery to spam.example stopped.');
    expect(await root.request('federation/show-instance', { host: 'spam.example' })).toMatchObject({ isSuspended: true });
    await form.locator('input[name="delivery-host"]').fill('never-seen.example');
    await form.getByRole('button', { name: 'Stop delivery' }).click();
    await expectText(form.locator('[data-error-code="NOT_FOUND"]'), 'It could not be found.');
  });

  it('suspends and unsuspends by acct, and refuses moderators and system actors with a reason', async () => {
    const form = page.locator('[data-form="user"]');
    await form.locator('input[name="user-acct"]').fill('@user1');
    await form.getByRole('button', { name: 'Suspend', exact: true }).click();
    await expectAttr(form.locator('[data-user]'), 'data-user-suspended', 'true');
    await form.getByRole('button', { name: 'Unsuspend' }).click();
    await expectAttr(form.locator('[data-user]'), 'data-user-suspended', 'false');
    await form.locator('input[name="user-acct"]').fill('@alice@spam.example');
    await form.getByRole('button', { name: 'Suspend', exact: true }).click();
    await expectAttr(form.locator('[data-user="@alice@spam.example"]'), 'data-user-suspended', 'true');
    await form.locator('input[name="user-acct"]').fill('@moderator');
    await form.getByRole('button', { name: 'Suspend', exact: true }).click();
    await expectText(form.locator('[data-error-code="MISSKEY_PROTECTED_USER"]'), 'This account cannot be suspended');
    await expectAttr(form.locator('[data-protected-reason]'), 'data-protected-reason', 'moderator');
    await form.locator('input[name="user-acct"]').fill('@relay.actor');
    await form.getByRole('button', { name: 'Suspend', exact: true }).click();
    await expectAttr(form.locator('[data-protected-reason]'), 'data-protected-reason', 'system-actor');
    await expectText(form.locator('[data-protected-reason]'), 'system accounts');
  });

  it('adds an emoji from an image file and imports an emoji zip (with the home-network warning shown)', async () => {
    const add = page.locator('[data-form="emoji-add"]');
    await add.locator('input[name="emoji-name"]').fill('e2e_cat');
    await add.locator('input[name="emoji-file"]').setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: PNG_1X1 });
    await add.getByRole('button', { name: 'Add emoji' }).click();
    await expectText(add.locator('[data-emoji-added]'), 'Added :e2e_cat:.');

    const zip = page.locator('[data-form="emoji-zip"]');
    await expectText(zip.locator('[data-warning="home-network"]'), 'misskey#9220');
    const path = join(work, 'emojis.zip');
    await writeFile(path, emojiZip(['e2e_zip_a', 'e2e_zip_b']));
    await zip.locator('input[name="emoji-zip-path"]').fill(path);
    await zip.getByRole('button', { name: 'Import' }).click();
    await expectAttr(page.locator('[data-job-kind="instance-emoji-import-zip"]'), 'data-job-state', 'done');
    await expect
      .poll(async () => (await root.request('admin/emoji/list', { query: 'e2e_' })).map((e) => e.name).sort(), { timeout: 15_000 })
      .toEqual(['e2e_cat', 'e2e_zip_a', 'e2e_zip_b']);
  });

  it('after a restart everything is still there, and errors read in Japanese', async () => {
    await page.context().close();
    await app.stop();
    app = await startBrowserMode({ dataDir: app.dataDir, env: env() });
    page = await open('ja-JP');
    // Locked after the restart: the screen says so instead of offering to connect again.
    await page.click('[data-route="instance"]');
    await expectVisible(screen().locator('[data-error-code="VAULT_LOCKED"]'));
    await expectCount(screen().locator('[data-form="connect-token"]'), 0);
    await page.click('[data-route="settings"]');
    const vault = page.locator('[data-vault-mode]');
    await vault.locator('input[name="vault-unlock"]').fill(VAULT);
    await vault.getByRole('button', { name: '解除' }).click();
    await expectAttr(vault, 'data-vault-unlocked', 'true');
    await page.click('[data-route="instance"]');
    await expectAttr(status(), 'data-connected', 'true');
    await expectAttr(page.locator('[data-setting="name"]'), 'data-value', 'おひとりさま e2e');
    await expectAttr(page.locator('[data-setting="cacheRemoteFiles"]'), 'data-value', 'false');
    await expectVisible(page.locator('[data-blocked-host="mine.example"]'));
    await expectText(page.locator('[data-setting="singleUserMode"]'), 'はい');

    const relays = page.locator('[data-form="relays"]');
    await relays.locator('input[name="relay-inbox"]').fill('http://relay.ja.example/inbox');
    await relays.getByRole('button', { name: 'リレーを追加' }).click();
    await expectText(relays.locator('[data-error-code="INVALID_ARGUMENT"]'), '入力内容に正しくないところがあります。');
    const users = page.locator('[data-form="user"]');
    await users.locator('input[name="user-acct"]').fill('@admin');
    await users.getByRole('button', { name: '凍結', exact: true }).click();
    await expectText(users.locator('[data-error-code="MISSKEY_PROTECTED_USER"]'), 'このアカウントは凍結できません');
    await expectText(users.locator('[data-protected-reason]'), '管理者です。');
    await page.context().close();
    page = await open();
    await page.click('[data-route="instance"]');
    await expectAttr(status(), 'data-connected', 'true');
  });

  it('connects with tokens: a wrong one is refused, a limited one shows what it lacks; then MiAuth in the browser', async () => {
    await status().getByRole('button', { name: 'Forget the token' }).click();
    await expectAttr(status(), 'data-connected', 'false');
    await expectAttr(status(), 'data-require-setup', 'false');
    await expectCount(screen().locator('[data-form="first-admin"]'), 0);

    const tokenForm = page.locator('[data-form="connect-token"]');
    await tokenForm.locator('input[name="misskey-token"]').fill('wrong-token-0000');
    await tokenForm.getByRole('button', { name: 'Connect' }).click();
    await expectText(tokenForm.locator('[data-error-code="MISSKEY_AUTH_FAILED"]'), 'The instance did not accept the token.');
    await tokenForm.locator('input[name="misskey-token"]').fill(seed.tokens.limitedReadOnly.token);
    await tokenForm.getByRole('button', { name: 'Connect' }).click();
    await expectAttr(status(), 'data-token-kind', 'pasted');
    await expectAttr(status().locator('[data-permission="write:admin:meta"]'), 'data-permission-state', 'missing');
    await expectAttr(status().locator('[data-permission="write:admin:relays"]'), 'data-permission-state', 'missing');
    await expectCount(status().locator('[data-permission="read:admin:meta"]'), 0);
    const relays = page.locator('[data-form="relays"]');
    await relays.locator('input[name="relay-inbox"]').fill('https://relay.limited.example/inbox');
    await relays.getByRole('button', { name: 'Add relay' }).click();
    await expectText(relays.locator('[data-error-code="MISSKEY_PERMISSION_DENIED"]'), 'The token lacks a permission this needs.');
    await expectText(relays.locator('[data-missing-permission]'), 'Missing permission: write:admin:relays');

    await status().getByRole('button', { name: 'Forget the token' }).click();
    await expectAttr(status(), 'data-connected', 'false');
    const miauth = page.locator('[data-section="miauth"]');
    await miauth.getByRole('button', { name: 'Open the approval page' }).click();
    const link = miauth.locator('[data-miauth-url]');
    await expectVisible(link);
    const url = (await link.getAttribute('data-miauth-url'))!;
    expect(new URL(url).origin).toBe(`https://${lab.servers.b.domain}`);
    await miauth.getByRole('button', { name: 'I approved it' }).click();
    await expectVisible(miauth.locator('[data-miauth-pending]'));
    // The user approves on the instance (the double's sign-in-and-approve page) in their browser.
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const approve = await ctx.newPage();
    await approve.goto(url);
    await expectText(approve.locator('#permissions'), 'write:admin:relays');
    await approve.fill('input[name="username"]', 'admin');
    await approve.fill('input[name="password"]', ADMIN_PASSWORD);
    await approve.click('#approve');
    await expectVisible(approve.locator('#done'));
    await ctx.close();
    await miauth.getByRole('button', { name: 'I approved it' }).click();
    await expectAttr(status(), 'data-connected', 'true');
    await expectAttr(status(), 'data-token-kind', 'miauth');
    await expectAttr(page.locator('[data-setting="name"]'), 'data-value', 'おひとりさま e2e');
    // MiAuth tokens are app tokens: the emoji zip import says it needs the administrator's own token.
    await expectVisible(page.locator('[data-form="emoji-zip"]').getByText('This needs the administrator’s own token'));
  });

  it('shows an instance that is down as not answering, and recovers', async () => {
    await stack.compose(['stop', '-t', '1', 'web']);
    try {
      await status().getByRole('button', { name: 'Reload' }).click();
      await expectAttr(status(), 'data-reachable', 'false');
      await expectText(status(), 'Not answering');
      await expectAttr(status().locator('[data-unreachable-reason]'), 'data-unreachable-reason', 'network');
    } finally {
      await stack.compose(['start', 'web']);
      await stack.waitHealthy();
    }
    await status().getByRole('button', { name: 'Reload' }).click();
    await expectAttr(status(), 'data-reachable', 'true');
  });
});
