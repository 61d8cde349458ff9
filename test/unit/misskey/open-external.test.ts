import { describe, expect, it } from 'vitest';
import { handlers } from '../../../src-main/ipc/handlers';
import type { Services } from '../../../src-main/services/app-services';

describe('shell:open-external for MiAuth', () => {
  it('opens https pages of a profile’s own domain, and still refuses other hosts', async () => {
    const opened: { url: string; extra?: readonly string[] }[] = [];
    const s = {
      profiles: { list: async () => [{ domain: 'misskey.home.example' }] },
      options: { openExternal: async (url: string, extra?: readonly string[]) => void opened.push({ url, extra }) },
    } as unknown as Services;
    const url = 'https://misskey.home.example/miauth/0b9f5d1e-2c1a-4c55-9c9e-1d1f0e6b7a10?name=Ohitori&permission=read:admin:meta';
    expect(await handlers['shell:open-external']({ url }, s)).toEqual({ opened: true });
    expect(opened).toEqual([{ url, extra: ['misskey.home.example'] }]);
    await expect(handlers['shell:open-external']({ url: 'https://evil.example/miauth/x' }, s)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(handlers['shell:open-external']({ url: 'http://misskey.home.example/miauth/x' }, s)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});
