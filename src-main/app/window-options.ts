/**
 * Pure rules about what the main window may show and who may call main; kept free of electron
 * imports so unit tests can check them directly.
 */
export const APP_ORIGIN = 'app://ohitori';
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

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
