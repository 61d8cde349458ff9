import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { composeFile, renderComposeFile } from '../../../src-main/services/stack/compose-file';
import { imageMajor } from '../../../src-main/services/stack/stack-model';
import { testModel } from './model-fixture';

interface Svc {
  image: string;
  init?: boolean;
  restart?: string;
  ports?: string[];
  networks?: string[];
  volumes?: string[];
  env_file?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval: string; retries: number };
}
interface Doc {
  version?: string;
  services: Record<string, Svc>;
  networks?: Record<string, { internal?: boolean } | null>;
}

const render = (over = {}): { doc: Doc; text: string } => {
  const text = renderComposeFile(testModel(over));
  return { doc: parse(text) as Doc, text };
};

describe('compose.yml', () => {
  it('is the upstream compose_example shape, with images instead of a build', () => {
    const { doc } = render();
    expect(Object.keys(doc.services)).toEqual(['web', 'redis', 'db']);
    expect(doc.version).toBeUndefined();
    const { web, redis, db } = doc.services as Record<'web' | 'redis' | 'db', Svc>;
    expect(web.image).toBe('misskey/misskey:2026.5.4');
    expect(web.init).toBe(true);
    expect(web.volumes).toEqual(['./files:/misskey/files', './.config:/misskey/.config:ro']);
    expect(web.depends_on).toEqual({ db: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(redis.volumes).toEqual(['./redis:/data']);
    expect(redis.healthcheck?.test).toEqual(['CMD-SHELL', 'redis-cli ping']);
    expect(db.env_file).toEqual(['.config/docker.env']);
    expect(db.volumes).toEqual(['./db:/var/lib/postgresql/data']);
    expect(db.healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U $$POSTGRES_USER -d $$POSTGRES_DB']);
    for (const s of [web, redis, db]) expect(s.restart).toBe('always');
  });

  it('publishes web on 127.0.0.1 only, and nothing else at all', () => {
    const { doc } = render();
    expect(doc.services.web!.ports).toEqual(['127.0.0.1:3000:3000']);
    expect(doc.services.db!.ports).toBeUndefined();
    expect(doc.services.redis!.ports).toBeUndefined();
    expect(render({ webPort: 3100 }).doc.services.web!.ports).toEqual(['127.0.0.1:3100:3000']);
    expect(render({ firewalld: true }).doc.services.web!.ports).toEqual(['127.0.0.1:3000:3000']);
  });

  it('pins the db and redis majors', () => {
    const { doc } = render();
    expect(imageMajor(doc.services.db!.image)).toBe(15);
    expect(imageMajor(doc.services.redis!.image)).toBe(7);
    expect(doc.services.db!.image).not.toMatch(/latest/);
  });

  it('default variant: db and redis only on the internal network, web on both, every used network declared', () => {
    const { doc } = render();
    expect(doc.networks).toEqual({ internal_network: { internal: true }, external_network: {} });
    expect(doc.services.web!.networks).toEqual(['internal_network', 'external_network']);
    expect(doc.services.db!.networks).toEqual(['internal_network']);
    expect(doc.services.redis!.networks).toEqual(['internal_network']);
    // docker-compose config does not catch an undeclared network (test-lab.md §3): check it here
    for (const s of Object.values(doc.services)) for (const n of s.networks ?? []) expect(Object.keys(doc.networks ?? {})).toContain(n);
  });

  it('firewalld variant: no custom networks, no internal network, everything on the default network', () => {
    const { doc, text } = render({ firewalld: true });
    expect(doc.networks).toBeUndefined();
    for (const s of Object.values(doc.services)) expect(s.networks).toBeUndefined();
    expect(text).not.toMatch(/internal: true/);
    expect(text).not.toMatch(/^networks:/m);
  });

  it('holds no secret (they live in the 600 files)', () => {
    const m = testModel();
    const text = renderComposeFile(m);
    expect(text).not.toContain(m.db.password);
    expect(text).not.toContain(m.setupPassword);
  });

  it('the data object and the text agree', () => {
    const m = testModel();
    expect(parse(renderComposeFile(m))).toEqual(JSON.parse(JSON.stringify(composeFile(m))));
  });
});
