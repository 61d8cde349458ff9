// Lint: TypeScript-aware recommended rules, React hooks rules for the renderer, and the
// process boundary as rules: services never import electron, the renderer never imports Node.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test/lab/state/**', 'test/lab/cache/**', '**/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: [
      'src-main/services/**/*.ts',
      'src-main/shared/**/*.ts',
      'src-main/ipc/**/*.ts',
      'src-main/web/**/*.ts',
      'src-main/agent/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Services stay free of electron (see docs/architecture.md).' }] },
      ],
    },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'electron'], message: 'The renderer is a web page: no Node, no electron.' },
            { group: ['**/src-main/shared/contract'], allowTypeImports: true, message: 'Import the contract with `import type` only.' },
            {
              group: ['**/src-main/services/**', '**/src-main/ipc/**', '**/src-main/app/**'],
              message: 'The renderer talks to main only through src-renderer/api.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { ...globals.node } },
  },
);
