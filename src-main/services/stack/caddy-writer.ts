import { AppError } from '../../shared/errors';

/**
 * A small structured Caddyfile writer: blocks of directives made of tokens. A bare token must
 * match a narrow character set (no whitespace, quotes, braces, `$`, `#` or backslash), so nothing
 * can open a block, start a comment, become a `{placeholder}` / `{$ENV}` or end a line; anything
 * else is refused rather than escaped. Quoted tokens are for our own fixed texts.
 */

const BARE_RE = /^[A-Za-z0-9._:/@*+=-]+$/;
const QUOTED_RE = /^[^\p{Cc}"\\{}$`]*$/u;

/** A token written as is (checked) or in double quotes (checked, for fixed texts with spaces). */
export type CaddyToken = string | { readonly quoted: string };

/** One directive line, optionally with a `{ … }` block under it. */
export interface CaddyDirective {
  readonly name: string;
  readonly args?: readonly CaddyToken[];
  readonly block?: readonly CaddyNode[];
}

/** A `# …` line (our own words only). */
export interface CaddyComment {
  readonly comment: string;
}

/** A line inside a block. */
export type CaddyNode = CaddyDirective | CaddyComment;

/** A top-level block: global options (no label), a `(snippet)`, or a site. */
export interface CaddyBlock {
  readonly kind: 'global' | 'snippet' | 'site';
  readonly label?: string;
  readonly body: readonly CaddyNode[];
  readonly comments?: readonly string[];
}

function bad(what: string, value: string): never {
  throw new AppError('INVALID_ARGUMENT', `Refusing to write ${what} into a Caddyfile: ${JSON.stringify(value)}`);
}

/** One token as text; throws INVALID_ARGUMENT for anything that could change the file's structure. */
export function caddyToken(t: CaddyToken): string {
  if (typeof t === 'string') {
    if (!BARE_RE.test(t)) bad('the token', t);
    return t;
  }
  if (!QUOTED_RE.test(t.quoted)) bad('the quoted text', t.quoted);
  return `"${t.quoted}"`;
}

function comment(text: string, indent: string): string {
  if (/[\p{Cc}]/u.test(text)) bad('the comment', text);
  return `${indent}# ${text}\n`;
}

function renderNodes(nodes: readonly CaddyNode[], depth: number): string {
  const indent = '\t'.repeat(depth);
  let out = '';
  for (const n of nodes) {
    if ('comment' in n) {
      out += comment(n.comment, indent);
      continue;
    }
    const head = [caddyToken(n.name), ...(n.args ?? []).map(caddyToken)].join(' ');
    out += n.block ? `${indent}${head} {\n${renderNodes(n.block, depth + 1)}${indent}}\n` : `${indent}${head}\n`;
  }
  return out;
}

/** The whole file, formatted like `caddy fmt` (tabs, one blank line between blocks). */
export function renderCaddyfile(blocks: readonly CaddyBlock[]): string {
  return blocks
    .map((b) => {
      const label =
        b.kind === 'global'
          ? ''
          : b.kind === 'snippet'
            ? `(${caddyToken(b.label ?? bad('a snippet', ''))}) `
            : `${caddyToken(b.label ?? bad('a site', ''))} `;
      return `${(b.comments ?? []).map((c) => comment(c, '')).join('')}${label}{\n${renderNodes(b.body, 1)}}\n`;
    })
    .join('\n');
}
