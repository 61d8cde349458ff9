/** The app's version, injected by the build (vite `define`); `dev` when run from source. */
declare const __OHITORI_VERSION__: string | undefined;
export const APP_VERSION: string = typeof __OHITORI_VERSION__ === 'string' ? __OHITORI_VERSION__ : 'dev';
