import { describe, expect, it } from 'vitest';
import { InstanceService } from '../../../src-main/services/misskey/instance-service';
import { JobRunner } from '../../../src-main/services/jobs/job-runner';
import { SessionStore } from '../../../src-main/services/vault/session-store';
import { fakeFetch } from './fake-misskey';

async function setup(metaDelayMs: number) {
  let list = ['a.example'];
  const { fetch, calls } = fakeFetch(async (ep, body) => {
    if (ep === 'admin/meta') {
      await new Promise((r) => setTimeout(r, metaDelayMs));
      return { status: 200, body: { blockedHosts: list, version: '2026.5.4' } };
    }
    if (ep === 'admin/update-meta') {
      list = body.blockedHosts as string[];
      return { status: 204 };
    }
    return { status: 204 };
  });
  const secrets = new SessionStore();
  await secrets.set('profile:p:misskey-token', Buffer.from(JSON.stringify({ token: 't', kind: 'native', permissions: [], native: true })));
  const svc = new InstanceService({ profiles: { get: async () => ({ id: 'p', domain: 'misskey.test' }) as never }, secrets, fetch });
  return { svc, calls, list: () => list };
}

describe('instance jobs', () => {
  it('a block-list import reports its steps and finishes', async () => {
    const f = await setup(0);
    const jobs = new JobRunner();
    const steps: string[] = [];
    const snap = jobs.start('instance-blocks-import', 'jobs.kinds.blocksImport', (ctx) =>
      f.svc.importBlockList(
        'p',
        { text: 'b.example\nb.example\nnot a host', expected: ['a.example'] },
        (p) => {
          steps.push(p.step);
          ctx.progress(p);
        },
        ctx.signal,
      ),
    );
    const done = await jobs.wait(snap.id);
    expect(done).toMatchObject({ state: 'done', result: { added: 1, hosts: ['a.example', 'b.example'] } });
    expect(steps).toEqual(['instance.steps.parse', 'instance.steps.write']);
  });

  it('cancelling an import while it reads the list writes nothing', async () => {
    const f = await setup(500);
    const jobs = new JobRunner();
    const snap = jobs.start('instance-blocks-import', 'jobs.kinds.blocksImport', (ctx) =>
      f.svc.importBlockList('p', { text: 'b.example', expected: ['a.example'] }, (p) => ctx.progress(p), ctx.signal),
    );
    await new Promise((r) => setTimeout(r, 100));
    jobs.cancel(snap.id);
    expect((await jobs.wait(snap.id)).state).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 600));
    expect(f.calls.map((c) => c.endpoint)).not.toContain('admin/update-meta');
    expect(f.list()).toEqual(['a.example']);
  });
});
