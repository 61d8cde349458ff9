import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

/**
 * Stand-in for the `electron` module, which cannot load outside Electron: it records what our
 * window code asks Electron for, so the test checks our options and handlers, not Electron.
 */
const electronStandIn = vi.hoisted(() => {
  const created: Array<{
    options: Record<string, unknown>;
    handlers: Record<string, (...a: unknown[]) => void>;
    openHandler?: (d: { url: string }) => unknown;
  }> = [];
  const opened: string[] = [];
  class BrowserWindowStandIn {
    readonly webContents: Record<string, unknown>;
    constructor(options: Record<string, unknown>) {
      const rec: (typeof created)[number] = { options, handlers: {} };
      created.push(rec);
      this.webContents = {
        on: (name: string, fn: (...a: unknown[]) => void) => (rec.handlers[name] = fn),
        setWindowOpenHandler: (fn: (d: { url: string }) => unknown) => (rec.openHandler = fn),
      };
    }
    once(): void {}
    loadURL(): Promise<void> {
      return Promise.resolve();
    }
  }
  return {
    created,
    opened,
    module: { BrowserWindow: BrowserWindowStandIn, shell: { openExternal: async (u: string) => void opened.push(u) }, session: {} },
  };
});
vi.mock('electron', () => electronStandIn.module);
import { createMainWindow } from '../../../src-main/app/window';
import { isAllowedExternalUrl } from '../../../src-main/app/external-links';
import { resolveDataDir } from '../../../src-main/app/paths';
import { APP_ENTRY, isAllowedNavigation, isTrustedSenderUrl } from '../../../src-main/app/window-options';
import { RENDERER_CSP } from '../../../src-main/shared/csp';

describe('main window security', () => {
  it('isolates the page: context isolation and sandbox on, no Node, web security on', () => {
    createMainWindow('/app/preload.cjs');
    const rec = electronStandIn.created.at(-1)!;
    const w = rec.options.webPreferences as Record<string, unknown>;
    expect(w).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
    expect(w).not.toHaveProperty('enableBlinkFeatures');
  });

  it('the window refuses foreign navigation and new windows, opening only allowlisted links outside', () => {
    createMainWindow('/app/preload.cjs');
    const rec = electronStandIn.created.at(-1)!;
    for (const event of ['will-navigate', 'will-redirect']) {
      let prevented = false;
      rec.handlers[event]!({ preventDefault: () => (prevented = true) }, 'https://evil.invalid/');
      expect(prevented, event).toBe(true);
      prevented = false;
      rec.handlers[event]!({ preventDefault: () => (prevented = true) }, 'app://ohitori/index.html');
      expect(prevented, event).toBe(false);
    }
    expect(rec.openHandler!({ url: 'https://evil.invalid/' })).toEqual({ action: 'deny' });
    expect(rec.openHandler!({ url: 'https://misskey-hub.net/ja/' })).toEqual({ action: 'deny' });
    expect(electronStandIn.opened).toEqual(['https://misskey-hub.net/ja/']);
  });

  it('allows navigation only within our own app:// origin', () => {
    expect(isAllowedNavigation(APP_ENTRY)).toBe(true);
    expect(isAllowedNavigation('app://ohitori/index.html#x')).toBe(true);
    for (const url of [
      'https://evil.invalid/',
      'app://other/index.html',
      'file:///etc/passwd',
      'http://127.0.0.1:3000/',
      'javascript:alert(1)',
      'data:text/html,hi',
      'not a url',
      'app://ohitori.evil/',
    ]) {
      expect(isAllowedNavigation(url), url).toBe(false);
      expect(isTrustedSenderUrl(url), url).toBe(false);
    }
  });

  it('opens only allowlisted https pages externally', () => {
    expect(isAllowedExternalUrl('https://misskey-hub.net/ja/docs/')).toBe(true);
    expect(isAllowedExternalUrl('https://docs.github.com/')).toBe(true);
    expect(isAllowedExternalUrl('https://my.instance.example/', ['my.instance.example'])).toBe(true);
    for (const url of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'smb://host/share',
      'http://misskey-hub.net/',
      'https://misskey-hub.net.evil.example/',
      'https://evilgithub.com/',
      'https://user:pw@github.com/',
      'https://github.com:8443/',
      'https://example.com/',
      '',
    ]) {
      expect(isAllowedExternalUrl(url), url).toBe(false);
    }
  });

  it('has a CSP without inline script or eval, and the page carries the same policy', () => {
    expect(RENDERER_CSP).toContain("script-src 'self'");
    expect(RENDERER_CSP).not.toContain('unsafe-inline');
    expect(RENDERER_CSP).not.toContain('unsafe-eval');
    expect(RENDERER_CSP).toContain("object-src 'none'");
    const html = readFileSync('src-renderer/index.html', 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const withoutFrameAncestors = RENDERER_CSP.split('; ')
      .filter((d) => !d.startsWith('frame-ancestors'))
      .join('; ');
    expect(meta).toBe(withoutFrameAncestors);
  });

  it('lets tests override the data directory', () => {
    expect(resolveDataDir(['electron', '.', '--data-dir', '/tmp/x'], {}, '/home/u/.config/Ohitori')).toBe('/tmp/x');
    expect(resolveDataDir([], { OHITORI_DATA_DIR: '/tmp/y' }, '/home/u/.config/Ohitori')).toBe('/tmp/y');
    expect(resolveDataDir([], {}, '/home/u/.config/Ohitori')).toBe('/home/u/.config/Ohitori/data');
  });
});
