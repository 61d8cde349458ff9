/* eng-disable REMOTE_MODULE_JS_CHECK PRELOAD_JS_CHECK OPEN_EXTERNAL_JS_CHECK */
// Electronegativity exceptions above, reviewed: the remote module was removed in Electron 14; the preload exposes one invoke function per channel and never ipcRenderer; openExternal is reached only for allowlisted https hosts (external-links.ts).
import { BrowserWindow, session, shell, type WebContents } from 'electron';
import { isAllowedExternalUrl } from './external-links';
import { APP_ENTRY, isAllowedNavigation } from './window-options';

/** Denies every navigation and new window; allowlisted https links go to the user's browser. */
export function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

/** The page asks for no device or OS permission; refuse them all. */
export function denyPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

/**
 * The one window. Its options are written out literally (not built by a helper) so
 * Electronegativity's static checks can read them; a unit test reads them back too.
 */
export function createMainWindow(preloadPath: string): BrowserWindow {
  // REMOTE_MODULE: the remote module was removed in Electron 14; nothing to disable.
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 880,
    minHeight: 600,
    show: false,
    title: 'Ohitori',
    backgroundColor: '#f7f5f2',
    webPreferences: {
      // Reviewed: the preload exposes one invoke function per contract channel and an event subscription, never ipcRenderer.
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
      disableBlinkFeatures: 'Auxclick',
    },
  });
  lockDown(win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY);
  return win;
}
