import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MisskeyClient } from '../../../src-main/services/misskey/misskey-client';
import { createNodeFetch, lookupFromEnv, mapLookup, parseResolveSpec } from '../../../src-main/services/misskey/resolve-override';

describe('the OHITORI_TEST_RESOLVE test hook', () => {
  it('parses host:ip pairs and refuses anything but IP literals', () => {
    expect([...parseResolveSpec('B.ohitori.test:10.231.0.3, a.ohitori.test:::1')]).toEqual([
      ['b.ohitori.test', '10.231.0.3'],
      ['a.ohitori.test', '::1'],
    ]);
    expect(() => parseResolveSpec('b.ohitori.test:example.com')).toThrow(/host:ip/);
    expect(lookupFromEnv({})).toBeUndefined();
    const lines: string[] = [];
    expect(lookupFromEnv({ OHITORI_TEST_RESOLVE: 'x.test:127.0.0.1' }, (l) => lines.push(l))).toBeTypeOf('function');
    expect(lines[0]).toContain('TEST HOOK');
  });

  it('sends JSON and multipart through the mapped address, keeps 204 empty, and fails unknown names as unreachable', async () => {
    const seen: { host?: string; type?: string; body: string }[] = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('latin1')));
      req.on('end', () => {
        seen.push({ host: req.headers.host, type: req.headers['content-type'], body });
        if (req.url === '/api/admin/update-meta') res.writeHead(204).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'f1', ok: true }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      const fetch = createNodeFetch({ lookup: mapLookup(new Map([['misskey.test', '127.0.0.1']])) });
      const client = new MisskeyClient({ origin: `http://misskey.test:${port}`, token: 'tok', fetch });
      expect(await client.request('ping', {})).toEqual({ id: 'f1', ok: true });
      expect(await client.requestUntyped('admin/update-meta', { name: 'x' })).toBeNull();
      await client.requestUntyped('drive/files/create', { file: new File([new Uint8Array([0, 255, 1])], 'a.bin'), name: 'a.bin' });
      expect(seen[0]).toMatchObject({ host: `misskey.test:${port}`, type: 'application/json', body: '{"i":"tok"}' });
      expect(seen[2]!.type).toMatch(/^multipart\/form-data; boundary=/);
      expect(seen[2]!.body).toContain('\u0000\u00ff\u0001');
      const other = new MisskeyClient({ origin: `http://elsewhere.test:${port}`, fetch });
      await expect(other.request('ping', {})).rejects.toMatchObject({ code: 'MISSKEY_UNREACHABLE', details: { cause: 'ENOTFOUND' } });
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
