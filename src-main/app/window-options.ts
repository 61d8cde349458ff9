/**
 * The main window's options, kept free of electron imports so a unit test can read them back.
 * Electron security checklist: isolation, sandbox, no Node in the page, web security on.
 */
export const APP_ORIGIN = 'app://ohitori';
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

export function mainWindowOptions(preloadPath: string) {
  return {
    width: 1200,
    height: 800,
    minWidth: 880,
    minHeight: 600,
    show: false,
    title: 'Ohitori',
    backgroundColor: '#f7f5f2',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      safeDialogs: true,
      navigateOnDragDrop: false,
    },
  } as const;
}

/** Only our own bundled pages may be shown in the window; every other navigation is refused. */
export function isAllowedNavigation(url: string): boolean {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** The sender check for IPC: only frames showing our own origin may call main. */
export function isTrustedSenderUrl(url: string): boolean {
  return isAllowedNavigation(url);
}
