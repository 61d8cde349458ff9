import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAllowedExternalUrl } from '../../../src-main/app/external-links';
import { resolveDataDir } from '../../../src-main/app/paths';
import { APP_ENTRY, isAllowedNavigation, isTrustedSenderUrl, mainWindowOptions } from '../../../src-main/app/window-options';
import { RENDERER_CSP } from '../../../src-main/shared/csp';

describe('main window security', () => {
  it('isolates the page: context isolation and sandbox on, no Node, web security on', () => {
    const w = mainWindowOptions('/app/preload.cjs').webPreferences;
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
  });

  it('allows navigation only within our own app:// origin', () => {
    expect(isAllowedNavigation(APP_ENTRY)).toBe(true);
    expect(isAllowedNavigation('app://ohitori/index.html#x')).toBe(true);
    for (const url of ['https://evil.invalid/', 'app://other/index.html', 'file:///etc/passwd', 'http://127.0.0.1:3000/', 'javascript:alert(1)', 'data:text/html,hi', 'not a url', 'app://ohitori.evil/']) {
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
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const withoutFrameAncestors = RENDERER_CSP.split('; ').filter((d) => !d.startsWith('frame-ancestors')).join('; ');
    expect(meta).toBe(withoutFrameAncestors);
  });

  it('lets tests override the data directory', () => {
    expect(resolveDataDir(['electron', '.', '--data-dir', '/tmp/x'], {}, '/home/u/.config/Ohitori')).toBe('/tmp/x');
    expect(resolveDataDir([], { OHITORI_DATA_DIR: '/tmp/y' }, '/home/u/.config/Ohitori')).toBe('/tmp/y');
    expect(resolveDataDir([], {}, '/home/u/.config/Ohitori')).toBe('/home/u/.config/Ohitori/data');
  });
});
