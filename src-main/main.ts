/* eng-disable OPEN_EXTERNAL_JS_CHECK */
// Electronegativity exceptions above, reviewed: openExternal is reached only for allowlisted https hosts (external-links.ts).
import { app, safeStorage, shell } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerAppScheme, serveRenderer } from './app/app-protocol';
import { isAllowedExternalUrl } from './app/external-links';
import { broadcastToWindows, registerIpc } from './app/ipc-bridge';
import { resolveDataDir } from './app/paths';
import { createMainWindow, denyPermissions, lockDown } from './app/window';
import { createDispatch } from './ipc/router';
import { createServices } from './services/app-services';
import { APP_VERSION } from './shared/version';

/** Composition root of the desktop app: services, IPC, the window. Nothing else lives here. */
const here = dirname(fileURLToPath(import.meta.url));

if (!app.requestSingleInstanceLock()) app.quit();
registerAppScheme();
app.on('web-contents-created', (_e, contents) => lockDown(contents));

app.whenReady().then(async () => {
  denyPermissions();
  serveRenderer(join(here, '..', 'renderer'));
  const services = await createServices({
    dataDir: resolveDataDir(process.argv, process.env, app.getPath('userData')),
    mode: 'electron',
    version: APP_VERSION,
    safeStorage,
    openExternal: async (url, extraHosts) => {
      if (isAllowedExternalUrl(url, extraHosts)) await shell.openExternal(url);
    },
    broadcast: broadcastToWindows,
  });
  registerIpc(createDispatch(services));
  let win = createMainWindow(join(here, '..', 'preload', 'preload.cjs'));
  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('activate', () => {
    if (win.isDestroyed()) win = createMainWindow(join(here, '..', 'preload', 'preload.cjs'));
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
