import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../lab/env';
import { APP_STACK_DIR as STACK, readOnServer, removeAppStack, restoreLabCaddyfile, statOnServer } from '../support/app-stack';
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
  addServerProfile,
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

  async function runWizard(firstContact: boolean): Promise<void> {
    await page.locator('[data-profile="Lab A"]').getByRole('button', { name: 'Set up this server' }).click();
    const wizard = page.locator('[data-wizard="Lab A"]');
    await wizard.getByRole('button', { name: /Run the checks|Check again/ }).click();
    if (firstContact) {
      const prompt = page.locator('[data-job-kind="setup-preflight"] [data-prompt-kind="host-key"]');
      await expectText(prompt, env.servers.a.hostKeyFingerprint);
      await prompt.getByRole('button', { name: 'Yes, continue' }).click();
    }
    await expectVisible(wizard.locator('[data-check="docker"]'));
    const failed = await wizard.locator('[data-status="fail"]').allInnerTexts();
    expect(failed, 'preflight found blocking problems on the lab server').toEqual([]);
    await expectAttr(wizard.locator('[data-check="docker"]'), 'data-status', 'pass');
    await expectAttr(wizard.locator('[data-check="compose"]'), 'data-status', 'pass');
    await wizard.locator('input[name="tls"][value="internal"]').check();
    await wizard.getByRole('button', { name: 'Show the files' }).click();
    await expectVisible(wizard.locator(`[data-file="${STACK}/.config/default.yml"]`));
    const config = await wizard.locator(`[data-file="${STACK}/.config/default.yml"] pre`).textContent();
    expect(config).toContain(`url: https://${env.servers.a.domain}`);
    expect(config).toMatch(/pass: ••••••/);
    expect(config).toMatch(/setupPassword: ••••••/);
    const applies = page.locator('[data-job-kind="setup-apply"]');
    const before = await applies.count();
    await wizard.getByRole('button', { name: 'Write the files and start' }).click();
    await expectCount(applies, before + 1);
    // Applying starts containers and waits for health: minutes on a loaded machine, not seconds.
    const job = page.locator('[data-job-kind="setup-apply"]').first();
    await expect
      .poll(async () => job.getAttribute('data-job-state'), { timeout: 300_000, interval: 250 })
      .toMatch(/^(done|failed|cancelled)$/);
    expect(await job.getAttribute('data-job-state'), await job.innerText()).toBe('done');
    await expectText(wizard.locator('[data-setup-done]'), `https://${env.servers.a.domain}`);
  }

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
    await page.click('[data-route="setup"]');
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
