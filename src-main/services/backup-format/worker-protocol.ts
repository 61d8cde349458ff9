import type { ErrorCode } from '../../shared/errors';
import type { CiphertextDigest, DecryptKeyBytes, EncryptKeyBytes } from './part-crypto';

/** Messages between worker-pool.ts (main) and part-worker.ts. Chunks are transferred, not copied. */
export type FromMain =
  | { t: 'encrypt'; id: number; keys: EncryptKeyBytes }
  | { t: 'decrypt'; id: number; keys: DecryptKeyBytes; outPath: string }
  | { t: 'in'; id: number; chunk: Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number }
  | { t: 'credit'; id: number; bytes: number };

export type ToMain =
  | { t: 'ack'; id: number; bytes: number }
  | { t: 'out'; id: number; chunk: Uint8Array }
  | { t: 'done'; id: number; plainSize: number; digest: CiphertextDigest }
  | { t: 'error'; id: number; code: ErrorCode; message: string; reason: string; digest?: CiphertextDigest };
