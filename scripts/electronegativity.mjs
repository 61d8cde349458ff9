// Runs Electronegativity over the main process sources and the renderer's HTML, and fails on any
// HIGH or MEDIUM finding (its own exit code is always 0, so the CSV is read here).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'ohitori-eng-'));
try {
  cpSync('src-main', join(work, 'src-main'), { recursive: true });
  cpSync('src-renderer/index.html', join(work, 'index.html'));
  const out = join(work, 'report.csv');
  execFileSync(process.execPath, ['node_modules/@doyensec/electronegativity/dist/index.js', '-i', work, '-o', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1);
  const bad = rows.filter((r) => /^[A-Z_]+,"(HIGH|MEDIUM)"/.test(r));
  for (const r of rows) console.log(`electronegativity: ${r.replaceAll(work, '.')}`);
  if (bad.length > 0) {
    console.error(`electronegativity: ${bad.length} HIGH/MEDIUM finding(s)`);
    process.exit(1);
  }
  console.log(`electronegativity: ${rows.length} finding(s), none HIGH or MEDIUM`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
