import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src-main/shared/errors';
import { en } from '../../../src-renderer/i18n/en';
import { ja } from '../../../src-renderer/i18n/ja';
import { resolveLanguage } from '../../../src-renderer/i18n';

type Tree = { readonly [k: string]: string | Tree };

function leaves(t: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(tsx?)$/.test(f) ? [p] : [];
  });
}

describe('translations', () => {
  const enKeys = leaves(en as unknown as Tree);
  const jaKeys = leaves(ja as unknown as Tree);

  it('have the same keys in Japanese and English, none empty', () => {
    expect([...jaKeys.keys()].sort()).toEqual([...enKeys.keys()].sort());
    for (const [k, v] of [...enKeys, ...jaKeys]) expect(v.trim(), k).not.toBe('');
  });

  it('keep interpolation placeholders the same in both languages', () => {
    for (const [k, v] of enKeys) {
      const ph = (s: string) => [...s.matchAll(/{{(\w+)}}/g)].map((m) => m[1]).sort();
      expect(ph(jaKeys.get(k)!), k).toEqual(ph(v));
    }
  });

  it('give every error code words in both languages', () => {
    for (const code of ERROR_CODES) {
      expect(enKeys.has(`errors.${code}`), code).toBe(true);
      expect(jaKeys.has(`errors.${code}`), code).toBe(true);
    }
  });

  it('actually translate: Japanese strings are not the English ones', () => {
    const same = [...enKeys].filter(([k, v]) => jaKeys.get(k) === v && !/^(OK|English|日本語)$/.test(v));
    expect(same).toEqual([]);
  });

  it('cover every literal key the renderer uses', () => {
    const used = new Set<string>();
    for (const f of sourceFiles('src-renderer')) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z0-9_.-]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(20);
    for (const k of used) expect(enKeys.has(k), k).toBe(true);
  });

  it('follow the system language by default', () => {
    expect(resolveLanguage('system', ['ja-JP', 'en-US'])).toBe('ja');
    expect(resolveLanguage('system', ['en-GB'])).toBe('en');
    expect(resolveLanguage('system', [])).toBe('en');
    expect(resolveLanguage('en', ['ja-JP'])).toBe('en');
    expect(resolveLanguage('ja', ['en-US'])).toBe('ja');
  });
});
