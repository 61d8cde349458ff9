/**
 * Keys service: the public surface the IPC layer calls (main process only; never hand private key
 * material or passphrases to the renderer). Typical use: one `Keyring` per app profile directory.
 */
export { Keyring, type RecipientEntry } from './keyring';
export { UnlockCache, DEFAULT_IDLE_MS, systemClock, type Clock } from './unlock-cache';
export { checkPassphraseStrength, MIN_ACCEPTED_SCORE, type PassphraseStrength, type PassphraseReason } from './passphrase-strength';
export { generateDesktopKey, generateServerSigningKey, type GeneratedDesktopKey, type ServerSigningKey } from './key-generate';
export { importPrivateKey, importPublicKey, importSigningPublicKey, type ImportedPrivateKey } from './key-import';
export { exportPublicKey, exportRecoveryKey, exportRecoveryKeyFromUnlocked } from './key-export';
export { unlockPrivateKey, protectPrivateKey, lockKey, parsePrivateKey } from './key-protect';
export { describeKey, formatFingerprint, normalizeFingerprint, assertGpgCompatible, type KeyInfo } from './key-info';
export { countBackupsUsingKey, countBackupsOrphanedBy, type RecipientsOf } from './key-usage';
export { recoveryPageText, recoveryPageHtml, type RecoveryPageInput } from './recovery-page';
