/**
 * Version gates (misskey.md §1.4) against the double imitating Misskey 2024.9.0: no
 * setupPassword yet (the first caller becomes root), no wizard preset fields, no remote notes
 * cleaning. The service must not send what that version does not know.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv } from '../../lab/env';
import { buildDoubleImage, DoubleStack } from '../misskey-double/lab-stack';
import { InstanceService } from '../../../src-main/services/misskey/instance-service';
import type { FetchFn } from '../../../src-main/services/misskey/misskey-client';
import { SessionStore } from '../../../src-main/services/vault/session-store';
import type { ServerProfile } from '../../../src-main/shared/domain';

let stack: DoubleStack;
const sent: { endpoint: string; body: Record<string, unknown> }[] = [];
const recording: FetchFn = async (input, init) => {
  const body = typeof init.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
  sent.push({ endpoint: new URL(input).pathname.replace(/^\/api\//, ''), body });
  return fetch(input, init);
};

beforeAll(async () => {
  const lab = loadLabEnv();
  stack = new DoubleStack(lab, 'a', await buildDoubleImage(lab, 'a'), {
    setupPassword: 'ignored-before-2024-10',
    misskeyVersion: '2024.9.0',
  });
  await stack.up();
});
afterAll(async () => {
  await stack?.down();
});

describe('Misskey 2024.9.0', () => {
  it('reports the gates, sends no setupPassword and no preset fields the version lacks', async () => {
    const profile = { id: 'old', domain: loadLabEnv().servers.a.domain } as ServerProfile;
    const svc = new InstanceService({
      profiles: { get: async () => profile },
      secrets: new SessionStore(),
      originFor: () => stack.url,
      fetch: recording,
    });
    const st = await svc.status('old');
    expect(st).toMatchObject({
      version: '2024.9.0',
      requireSetup: true,
      gates: { setupPassword: false, serverSetupWizardPreset: false, supported: true },
    });
    const r = await svc.createFirstAdmin('old', {
      username: 'admin',
      password: 'old admin pass',
      setupPassword: 'anything',
      federate: true,
    });
    expect(r.settings).toMatchObject({ cacheRemoteFiles: false, disableRegistration: true, entrancePageStyle: 'simple' });
    const create = sent.find((c) => c.endpoint === 'admin/accounts/create')!;
    expect(create.body).not.toHaveProperty('setupPassword');
    const preset = sent.find((c) => c.endpoint === 'admin/update-meta')!;
    expect(preset.body).toMatchObject({ disableRegistration: true, cacheRemoteFiles: false });
    for (const k of ['singleUserMode', 'federation', 'enableRemoteNotesCleaning']) expect(preset.body, k).not.toHaveProperty(k);
    expect(JSON.stringify(sent.filter((c) => c.endpoint !== 'admin/accounts/create'))).not.toContain('old admin pass');
  });
});
