import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../lab/env';
import { APP_STACK_DIR as STACK, readOnServer, removeAppStack, restoreLabCaddyfile, statOnServer } from '../support/app-stack';
import {
  expectAttr,
  expectText,
  launchChromium,
  openApp,
  removeDir,
  startBrowserMode,
  type BrowserModeApp,
  addServerProfile,
  runSetupWizard,
} from './fixtures';

function httpsStatus(env: LabEnv): string {
  const a = env.servers.a;
  return execFileSync(
    'curl',
    ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '--resolve', `${a.domain}:443:${a.ip}`, `https://${a.domain}/healthz`],
    {
      encoding: 'utf8',
    },
  );
}

describe('setup wizard against lab server A (real sshd, dockerd, PostgreSQL, Caddy; Misskey API double)', () => {
  let env: LabEnv;
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    env = loadLabEnv();
    // Start from an empty server: no stack left by an earlier run.
    await removeAppStack('a');
    // The app resolves the lab domain like a LAN DNS would (documented test hook); no extra CA is
    // trusted: the instance's certificate must verify against the root pinned at setup.
    app = await startBrowserMode({ env: { OHITORI_TEST_RESOLVE: `${env.servers.a.domain}:${env.servers.a.ip}` } });
    browser = await launchChromium();
    page = await openApp(browser, app);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (app) await removeDir(app.dataDir);
    if (env) {
      await removeAppStack('a');
      await restoreLabCaddyfile('a');
      execFileSync('bash', ['test/lab/compose-variant.sh', 'a', 'both']);
    }
  });

  async function addProfile(): Promise<void> {
    await addServerProfile(page, {
      name: 'Lab A',
      host: env.servers.a.ip,
      user: env.admin.user,
      auth: 'key',
      keyPath: env.admin.keyPath,
      domain: env.servers.a.domain,
    });
  }

  const runWizard = (firstContact: boolean): Promise<void> =>
    runSetupWizard(page, {
      profile: 'Lab A',
      domain: env.servers.a.domain,
      stackDir: STACK,
      ...(firstContact ? { hostKeyFingerprint: env.servers.a.hostKeyFingerprint } : {}),
    });

  it('takes server A from nothing to HTTPS through Caddy with `docker compose`', async () => {
    execFileSync('bash', ['test/lab/compose-variant.sh', 'a', 'v2-only']);
    await addProfile();
    await runWizard(true);
    expect(httpsStatus(env)).toBe('200');
    const perms = await statOnServer('a', `${STACK}/.config/default.yml`, `${STACK}/.config/docker.env`, `${STACK}/files`);
    expect(perms).toContain(`600 991 ${STACK}/.config/default.yml`);
    expect(perms).toContain(`600 0 ${STACK}/.config/docker.env`);
    expect(perms).toContain(`755 991 ${STACK}/files`);
  }, 600_000);

  it('runs again with `docker-compose` (v1) idempotently: same secrets, url and id', async () => {
    const before = await readOnServer('a', `${STACK}/.config/default.yml`);
    execFileSync('bash', ['test/lab/compose-variant.sh', 'a', 'v1-only']);
    await page.reload();
    await page.waitForSelector('[data-app-state="ready"]');
    await runWizard(false);
    expect(await readOnServer('a', `${STACK}/.config/default.yml`)).toBe(before);
    expect(httpsStatus(env)).toBe('200');
    const review = readFileSync(join(app.dataDir, 'profiles.json'), 'utf8');
    expect(review).not.toContain('pass:');
  }, 600_000);

  it('then the Instance screen reaches it over HTTPS with the pinned Caddy root and creates the administrator', async () => {
    await page.click('[data-route="instance"]');
    const status = page.locator('[data-instance-status]');
    await expectAttr(status, 'data-reachable', 'true');
    await expectAttr(status, 'data-require-setup', 'true');
    const form = page.locator('[data-form="first-admin"]');
    await form.locator('input[name="admin-password"]').fill('wizard admin password 1');
    // The setup password field stays empty: the one setup generated is used.
    await form.getByRole('button', { name: 'Create and apply the preset' }).click();
    await expectAttr(status, 'data-connected', 'true', 60_000);
    await expectAttr(page.locator('[data-setting="singleUserMode"]'), 'data-value', 'true');
    await expectAttr(page.locator('[data-setting="cacheRemoteFiles"]'), 'data-value', 'false');
  }, 300_000);

  it('the dashboard shows the server up with its Misskey version', async () => {
    await page.click('[data-route="dashboard"]');
    const card = page.locator('[data-server="Lab A"]');
    await expectAttr(card, 'data-state', 'up', 60_000);
    await expectText(card.locator('[data-version]'), 'Misskey version 2026.5.4');
  });
});
