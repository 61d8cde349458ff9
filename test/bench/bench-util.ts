import { spawn } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Shared helpers for test/bench/*.ts (run through scripts/bench.mjs). */

export const MiB = 1024 * 1024;

/**
 * Deterministic test data in 1 MiB blocks, like docs/performance.md: ~46% text-like blocks
 * (pg COPY-style rows; drawn from a pool so generation is fast) and ~54% incompressible blocks
 * (AES-CTR keystream) standing in for media.
 */
export async function writeTestData(path: string, bytes: number, seed = 1): Promise<void> {
  const fh = await open(path, 'w');
  const ctr = createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16, 0));
  const zero = Buffer.alloc(MiB);
  const pool = Array.from({ length: 48 }, (_, i) => textBlock(seed * 1000 + i));
  let state = seed >>> 0;
  const rnd = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  try {
    for (let off = 0, n = 0; off < bytes; off += MiB, n++) {
      const len = Math.min(MiB, bytes - off);
      let block: Buffer;
      if (rnd() < 0.54) block = ctr.update(zero);
      else {
        block = Buffer.from(pool[Math.floor(rnd() * pool.length)]!);
        block.write(`${n}\t${off}\t`, 0, 'latin1'); // make repeated pool blocks differ
      }
      await fh.write(block, 0, len);
    }
  } finally {
    await fh.close();
  }
}

function textBlock(seed: number): Buffer {
  const words = Array.from({ length: 3000 }, (_, i) => (i * 7919 + seed).toString(36));
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const zipf = () => words[Math.floor(words.length * rnd() ** 3)]!;
  let out = '';
  let id = seed * 1_000_000;
  while (out.length < MiB) {
    id += 1 + Math.floor(rnd() * 50);
    out += `${id.toString(36)}\t2026-11-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')} ${Math.floor(rnd() * 86400)}\t${zipf()} ${zipf()} ${zipf()} ${zipf()}\t{"reactions":${Math.floor(rnd() * 99)},"renote":${rnd() < 0.1}}\n`;
  }
  return Buffer.from(out.slice(0, MiB), 'latin1');
}

export interface ProcResult {
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** From /usr/bin/time -f %M when `timed` (KiB → MiB). */
  readonly peakMiB?: number;
  /** "CPU 1.20 user + 0.50 sys" (all threads) from /usr/bin/time when `timed`. */
  readonly cpu?: string;
  /**
   * CPU time the hypervisor took from this machine's vCPUs while the command ran (all vCPUs, the
   * `steal` column of /proc/stat), when readable. A busy host slows a two-thread run more than a
   * one-thread anchor, so the bench prints it next to each timing.
   */
  readonly stealMs?: number;
}

/** Total steal time of all CPUs so far (ms), or undefined where /proc/stat is not readable. */
function stealNow(): number | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.trim().split(/\s+/);
    return cpu[0] === 'cpu' && cpu.length > 8 ? (Number(cpu[8]) * 1000) / 100 : undefined; // USER_HZ = 100 on Linux
  } catch {
    return undefined;
  }
}

/** Runs a command to completion; measures wall time, optionally peak RSS via GNU time. */
export function runProc(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timed?: boolean } = {},
): Promise<ProcResult> {
  const [c, a] = opts.timed ? ['/usr/bin/time', ['-f', 'PEAK_KIB=%M CPU=%U+%S', cmd, ...args]] : [cmd, [...args]];
  return new Promise((resolve, reject) => {
    const steal0 = stealNow();
    const t0 = performance.now();
    const child = spawn(c, a, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      const steal1 = stealNow();
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      const m = /PEAK_KIB=(\d+)/.exec(stderr);
      const u = /CPU=([\d.]+)\+([\d.]+)/.exec(stderr);
      const stealMs = steal0 !== undefined && steal1 !== undefined ? steal1 - steal0 : undefined;
      resolve({
        wallMs,
        stdout,
        stderr,
        ...(m ? { peakMiB: Number(m[1]) / 1024 } : {}),
        ...(u ? { cpu: `CPU ${u[1]} user + ${u[2]} sys` } : {}),
        ...(stealMs !== undefined ? { stealMs } : {}),
      });
    });
  });
}

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Prints the machine-readable line the CI summary greps for. */
export function benchLine(name: string, value: number, unit: string): void {
  console.log(`bench: ${name} ${Number.isInteger(value) ? value : value.toFixed(unit === 'x' ? 3 : 1)} ${unit}`);
}
