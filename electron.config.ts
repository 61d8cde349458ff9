import type { Configuration } from 'electron-builder';

/**
 * electron-builder configuration (`npx electron-builder --config electron.config.ts`). Packages the
 * built `dist/` (renderer, main, preload) with production dependencies; icons come from build/.
 */
const config: Configuration = {
  appId: 'net.ohitori.desktop',
  productName: 'Ohitori',
  copyright: 'Ohitori contributors',
  directories: { output: 'release', buildResources: 'build' },
  files: ['dist/**/*', 'package.json', '!**/*.map'],
  asar: true,
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
  },
  linux: {
    target: ['AppImage', 'deb'],
    icon: 'build/icons',
    category: 'Network',
    synopsis: 'Desktop companion for your own Misskey server',
  },
  deb: { depends: ['libsecret-1-0'] },
  mac: { target: ['dmg'], icon: 'build/icon.png', category: 'public.app-category.utilities', hardenedRuntime: true },
  win: { target: ['nsis'], icon: 'build/icon.png' },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
};

export default config;
