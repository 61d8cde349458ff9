import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchLabBrowser, newLabContext } from '../../lab/browser';
import { loadLabEnv, type LabEnv } from '../../lab/env';

describe('lab: Debian Chromium through playwright-core', () => {
  let env: LabEnv;
  let browser: Browser;
  beforeAll(async () => {
    env = loadLabEnv();
    browser = await launchLabBrowser([`MAP ${env.restoreDomain} ${env.servers.b.ip}`]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('reaches each server by its lab domain through Caddy (resolver rules, no DNS)', async () => {
    const ctx = await newLabContext(browser);
    try {
      for (const s of Object.values(env.servers)) {
        const page = await ctx.newPage();
        // With no stack behind it, Caddy answers 502 with an empty body, which Chromium reports as a
        // failed navigation (ERR_HTTP_RESPONSE_CODE_FAILURE); the response itself is what counts.
        const response = page.waitForResponse((r) => r.url().startsWith(`https://${s.domain}/`), { timeout: 15_000 });
        await page.goto(`https://${s.domain}/`).catch(() => null);
        const res = await response;
        expect(res.headers().server).toBe('Caddy');
        await page.close();
      }
    } finally {
      await ctx.close();
    }
  });

  it('maps extra names (the restore domain) onto a server', async () => {
    const ctx = await newLabContext(browser);
    try {
      const page = await ctx.newPage();
      // Server b has no site for the restore domain yet: Caddy refuses the TLS handshake, which
      // still proves the name went to 10.231.0.3 (a DNS failure would say ERR_NAME_NOT_RESOLVED).
      const err = await page.goto(`https://${env.restoreDomain}/`).then(
        () => null,
        (e: Error) => e,
      );
      if (err) expect(err.message).not.toMatch(/ERR_NAME_NOT_RESOLVED/);
    } finally {
      await ctx.close();
    }
  });
});
