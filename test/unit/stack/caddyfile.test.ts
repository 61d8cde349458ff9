import { describe, expect, it } from 'vitest';
import { caddyToken, renderCaddyfile } from '../../../src-main/services/stack/caddy-writer';
import { SIGN_IN_PATHS, decommissionCaddyfile, stackCaddyfile } from '../../../src-main/services/stack/caddyfile';
import { AppError } from '../../../src-main/shared/errors';
import { testModel } from './model-fixture';

/** Caddy's path glob (`*` = any run of characters), case-insensitive as Caddy matches paths. */
function globMatches(pattern: string, path: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(path);
}

/** The `path` arguments of the @blocked matcher, read back from the generated text. */
function blockedPaths(text: string): string[] {
  const m = /@blocked \{\n\t\tpath ([^\n]+)\n\t\tnot remote_ip ([^\n]+)\n\t\}/.exec(text);
  if (!m) throw new Error(`no @blocked matcher in:\n${text}`);
  return m[1]!.split(' ');
}

describe('stack Caddyfile', () => {
  it("has the guide's shape: logging snippet with rolling, compression, proxy to the loopback port", () => {
    const text = stackCaddyfile(testModel());
    expect(text).toContain(
      '(logging) {\n\tlog {\n\t\toutput file /var/log/caddy/access.log {\n\t\t\troll_size 1mb\n\t\t\troll_keep 5\n\t\t\troll_keep_for 720h\n\t\t}\n\t}\n}\n',
    );
    expect(text).toContain('misskey.example.com {\n\timport logging\n\tencode zstd gzip\n\treverse_proxy localhost:3000\n}\n');
    expect(text).not.toMatch(/@blocked/);
    expect(text).not.toMatch(/^\{/m); // acme without e-mail: no global block
  });

  it('acme with e-mail: global email; tls internal: local_certs + skip_install_trust', () => {
    expect(stackCaddyfile(testModel({ caddy: { email: 'me@example.com' } }))).toMatch(/^\{\n\temail me@example\.com\n\}\n/m);
    const internal = stackCaddyfile(testModel({ caddy: { tls: 'internal', email: 'me@example.com' } }));
    expect(internal).toMatch(/^\{\n\tlocal_certs\n\tskip_install_trust\n\}\n/m);
    expect(internal).not.toMatch(/email/);
  });

  it("proxies to the model's web port and uses its log settings", () => {
    const text = stackCaddyfile(
      testModel({ webPort: 3100, caddy: { accessLog: { dir: '/srv/logs', rollSizeMb: 10, rollKeep: 3, keepForHours: 48 } } }),
    );
    expect(text).toMatch(/reverse_proxy localhost:3100\n/);
    expect(text).toMatch(/output file \/srv\/logs\/access\.log \{\n\t\t\troll_size 10mb\n\t\t\troll_keep 3\n\t\t\troll_keep_for 48h\n/);
  });

  it('sign-in restriction: every sign-in endpoint, explicitly, from outside the allowed ranges; answered 403 before the proxy', () => {
    const m = testModel({ caddy: { restrictSignIn: true } });
    const text = stackCaddyfile(m);
    const paths = blockedPaths(text);
    expect(paths).toEqual([...SIGN_IN_PATHS]);
    for (const p of ['/api/signin', '/api/signin-flow', '/api/signin-with-passkey', '/api/signin/', '/API/SignIn-Flow'])
      expect([p, paths.some((g) => globMatches(g, p))]).toEqual([p, true]);
    for (const p of ['/api/notes', '/api/notes/create', '/api/signup', '/api/i', '/api/sign', '/signin', '/api/meta'])
      expect([p, paths.some((g) => globMatches(g, p))]).toEqual([p, false]);
    expect(text).toContain(`\t\tnot remote_ip ${m.caddy.signInAllowedRanges.join(' ')}\n`);
    expect(text.indexOf('respond @blocked 403')).toBeGreaterThan(text.indexOf('@blocked {'));
    expect(text.indexOf('respond @blocked 403')).toBeLessThan(text.indexOf('reverse_proxy'));
  });

  it('writes user-provided ranges as given', () => {
    const text = stackCaddyfile(testModel({ caddy: { restrictSignIn: true, signInAllowedRanges: ['192.168.10.0/24', 'fd12:3456::/48'] } }));
    expect(text).toContain('\t\tnot remote_ip 192.168.10.0/24 fd12:3456::/48\n');
  });

  it('test-run options go to the global block', () => {
    const text = stackCaddyfile(testModel({ caddy: { tls: 'internal' } }), {
      storageDir: '/tmp/x/storage',
      httpPort: 8080,
      httpsPort: 8443,
      adminOff: true,
    });
    expect(text).toMatch(
      /^\{\n\tlocal_certs\n\tskip_install_trust\n\tstorage file_system \/tmp\/x\/storage\n\thttp_port 8080\n\thttps_port 8443\n\tadmin off\n\}/m,
    );
    expect(() => stackCaddyfile(testModel(), { storageDir: '/tmp/../etc' })).toThrow(AppError);
  });
});

describe('decommission Caddyfile', () => {
  it('answers 410 on every path and proxies nothing', () => {
    const text = decommissionCaddyfile('Misskey.Example.com');
    expect(text).toContain('misskey.example.com {\n\timport logging\n\trespond "Gone: this Misskey server has closed." 410\n}\n');
    expect(text).not.toMatch(/reverse_proxy|@blocked|encode/);
    expect(text).toContain('(logging) {');
  });

  it.each(['misskey.example.com {\n\treverse_proxy evil:80\n}', 'misskey.example.com"', 'a b.example.com', '{$HOME}.example.com', ''])(
    'refuses the domain %j',
    (d) => {
      expect(() => decommissionCaddyfile(d)).toThrow(/Not a domain name/);
    },
  );
});

describe('Caddyfile writer', () => {
  it.each(['a b', 'a"b', 'a{b', 'a}b', '{$HOME}', '{env.X}', '#comment', 'a\nb', "a'b", 'a\\b', 'a`b', 'a;b', ''])(
    'refuses the bare token %j',
    (t) => {
      expect(() => caddyToken(t)).toThrow(AppError);
    },
  );

  it.each(['a"b', 'a\\b', 'line\nbreak', '{$HOME}', 'a{b}', 'tab\there'])('refuses the quoted text %j', (t) => {
    expect(() => caddyToken({ quoted: t })).toThrow(AppError);
  });

  it('writes blocks with tabs, a blank line between them, comments only from our text', () => {
    const text = renderCaddyfile([
      { kind: 'global', body: [{ name: 'admin', args: ['off'] }], comments: ['hello'] },
      { kind: 'site', label: 'x.example.com', body: [{ comment: 'c' }, { name: 'respond', args: [{ quoted: 'hi there' }, '200'] }] },
    ]);
    expect(text).toBe('# hello\n{\n\tadmin off\n}\n\nx.example.com {\n\t# c\n\trespond "hi there" 200\n}\n');
    expect(() => renderCaddyfile([{ kind: 'site', label: 'x.example.com', body: [{ comment: 'a\n}' }] }])).toThrow(AppError);
    expect(() => renderCaddyfile([{ kind: 'site', label: 'x.example.com {', body: [] }])).toThrow(AppError);
  });
});
