import type { ErrorCode } from '../../shared/errors';
import type { EdKey, ExpectedPart, PartDigest, PartSession, ReadDigest, SessionKey } from './native-part';

/**
 * Messages between worker-pool.ts (main) and part-worker.ts. Chunks are transferred, not copied.
 * The worker never gets a private OpenPGP key: an encryption job carries its part's session (the
 * signer's KeyObject is cloned), a decryption job asks for its part's session key once it has read
 * the PKESK packets.
 */
export type FromMain =
  | { t: 'encrypt'; id: number; session: PartSession }
  | {
      t: 'decrypt';
      id: number;
      verifiers: readonly EdKey[];
      ownKeyIds: readonly string[];
      /** The private file to decrypt into; absent: the verified data comes back as 'out' chunks (format v3). */
      outPath?: string;
      expected?: ExpectedPart;
    }
  | { t: 'session-key'; id: number; key?: SessionKey; error?: string }
  | { t: 'in'; id: number; chunk: Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number }
  | { t: 'credit'; id: number; bytes: number };

export type ToMain =
  | { t: 'ack'; id: number; bytes: number }
  | { t: 'out'; id: number; chunk: Uint8Array }
  | { t: 'session-key-request'; id: number; pkesks: Uint8Array[] }
  | { t: 'done'; id: number; plainSize: number; digest: ReadDigest | PartDigest }
  | { t: 'error'; id: number; code: ErrorCode; message: string; reason: string; digest?: ReadDigest };
