import { describe, expect, it } from 'vitest';
import { UNIT_NAME, composeArgv, renderSystemdUnit } from '../../../src-main/services/stack/systemd-unit';
import { AppError } from '../../../src-main/shared/errors';
import { testModel } from './model-fixture';

const lines = (text: string): string[] => text.split('\n');

describe('misskey-stack.service', () => {
  it('runs `up -d` once and stays active, in the stack dir, after docker', () => {
    const text = renderSystemdUnit(testModel(), { kind: 'v2', path: '/usr/bin/docker' });
    expect(UNIT_NAME).toBe('misskey-stack.service');
    const l = lines(text);
    for (const want of [
      '[Unit]',
      'Requires=docker.service',
      'After=docker.service network-online.target',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      'WorkingDirectory=/var/servers/docker/misskey',
      'ExecStart=/usr/bin/docker compose -f /var/servers/docker/misskey/compose.yml up -d --remove-orphans',
      'ExecStop=/usr/bin/docker compose -f /var/servers/docker/misskey/compose.yml down',
      '[Install]',
      'WantedBy=multi-user.target',
    ])
      expect(l).toContain(want);
  });

  it('uses docker-compose for v1', () => {
    const text = renderSystemdUnit(testModel({ stackDir: '/srv/mk' }), { kind: 'v1', path: '/usr/local/bin/docker-compose' });
    expect(lines(text)).toContain('ExecStart=/usr/local/bin/docker-compose -f /srv/mk/compose.yml up -d --remove-orphans');
    expect(lines(text)).toContain('WorkingDirectory=/srv/mk');
  });

  it.each([
    'docker',
    '/usr/bin/docker compose',
    '/usr/bin/%n',
    '/usr/$X/docker',
    '/usr/bin/../bin/docker',
    '/usr/bin/docker\nExecStartPre=/bin/rm',
  ])('refuses the compose path %j', (path) => {
    expect(() => renderSystemdUnit(testModel(), { kind: 'v2', path })).toThrow(AppError);
  });

  it('composeArgv names the compose file explicitly', () => {
    expect(composeArgv({ kind: 'v2', path: '/usr/bin/docker' }, '/srv/mk')).toEqual([
      '/usr/bin/docker',
      'compose',
      '-f',
      '/srv/mk/compose.yml',
    ]);
    expect(composeArgv({ kind: 'v1', path: '/usr/bin/docker-compose' }, '/srv/mk')).toEqual([
      '/usr/bin/docker-compose',
      '-f',
      '/srv/mk/compose.yml',
    ]);
  });
});
