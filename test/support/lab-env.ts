import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');

/** The lab's shell-style env file (test/lab/state/lab.env), as written by `npm run lab:up`. */
export async function readLabEnv(): Promise<Record<string, string>> {
  const path = join(REPO, 'test/lab/state/lab.env');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`the lab is not up (${path} missing): run npm run lab:up first`);
  }
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}
