import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { loadLabEnv } from './env';

/** Chromium flags that keep Debian's Chromium quiet and offline-friendly in the lab (test-lab.md §7). */
export const LAB_CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** Resolver rules mapping each lab server's domain to its address (the lab has no DNS). */
export function labResolverRules(extra: readonly string[] = []): string {
  const env = loadLabEnv();
  const rules = Object.values(env.servers).map((s) => `MAP ${s.domain} ${s.ip}`);
  return [...rules, ...extra].join(',');
}

/**
 * Launch Debian's Chromium (not Playwright's download, which is unreachable here) with the lab's
 * hosts mapped. `extraResolverRules` adds rules such as `MAP misskey.ohitori.test 10.231.0.3`.
 */
export async function launchLabBrowser(extraResolverRules: readonly string[] = []): Promise<Browser> {
  const env = loadLabEnv();
  return chromium.launch({
    executablePath: env.chromiumPath,
    headless: true,
    args: [...LAB_CHROMIUM_ARGS, `--host-resolver-rules=${labResolverRules(extraResolverRules)}`],
  });
}

/**
 * A context that accepts the lab's Caddy certificates: Chromium reads trust from an NSS database,
 * not from a CA file, so lab pages use `ignoreHTTPSErrors` (the TLS chain itself is checked by the
 * Node-side tests with the CA in lab.env).
 */
export function newLabContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true });
}
