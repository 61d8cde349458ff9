import { describe, expect, it } from 'vitest';
import { MIN_ACCEPTED_SCORE, checkPassphraseStrength } from '../../../src-main/services/pgp/passphrase-strength';

describe('passphrase strength', () => {
  it.each(['', 'a', 'password', 'password123', 'aaaaaaaaaaaaaaaa', 'abcd1234', 'qwertyuiop'])('rejects %j', (p) => {
    expect(checkPassphraseStrength(p).score).toBeLessThan(MIN_ACCEPTED_SCORE);
  });
  it.each(['correct horse battery staple', 'Tr0ub4dor&3-is-not-enough!', 'ねこがすきなおひとりさま', 'v9#Kq2!mZ7@xL4pR'])(
    'accepts %j',
    (p) => {
      expect(checkPassphraseStrength(p).score).toBeGreaterThanOrEqual(MIN_ACCEPTED_SCORE);
    },
  );
  it('explains why', () => {
    expect(checkPassphraseStrength('password').reasons).toEqual(expect.arrayContaining(['passphrase.common', 'passphrase.too-short']));
    expect(checkPassphraseStrength('').reasons).toEqual(['passphrase.empty']);
  });
});
