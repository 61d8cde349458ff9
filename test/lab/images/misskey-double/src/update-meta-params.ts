/**
 * paramDef of admin/update-meta (same keys, types and order as Misskey's endpoint, which
 * misskey-js's AdminUpdateMetaRequest is generated from). The `satisfies` clause ties every key
 * to misskey-js so a renamed setting fails the build.
 */
import type { Endpoints } from 'misskey-js';
import type { ObjectSchema, Schema } from './param-schema';

type Req = Endpoints['admin/update-meta']['req'];

const s: Schema = { type: 'string' };
const sN: Schema = { type: 'string', nullable: true };
const b: Schema = { type: 'boolean' };
const n: Schema = { type: 'integer' };
const nN: Schema = { type: 'integer', nullable: true };
const arr: Schema = { type: 'array', items: { type: 'string' } };
const arrN: Schema = { type: 'array', nullable: true, items: { type: 'string' } };

const properties = {
  disableRegistration: { type: 'boolean', nullable: true }, pinnedUsers: arrN, hiddenTags: arrN, blockedHosts: arrN,
  sensitiveWords: arrN, prohibitedWords: arrN, prohibitedWordsForNameOfUser: arrN, themeColor: { type: 'string', nullable: true, pattern: '^#[0-9a-fA-F]{6}$' },
  mascotImageUrl: sN, bannerUrl: sN, serverErrorImageUrl: sN, infoImageUrl: sN, notFoundImageUrl: sN,
  iconUrl: sN, app192IconUrl: sN, app512IconUrl: sN, backgroundImageUrl: sN, logoImageUrl: sN, name: sN,
  shortName: sN, description: sN, defaultLightTheme: sN, defaultDarkTheme: sN,
  clientOptions: { type: 'object', properties: { entrancePageStyle: { type: 'string', enum: ['classic', 'simple'] }, showTimelineForVisitor: b, showActivitiesForVisitor: b } },
  cacheRemoteFiles: b, cacheRemoteSensitiveFiles: b, emailRequiredForSignup: b, enableHcaptcha: b,
  hcaptchaSiteKey: sN, hcaptchaSecretKey: sN, enableMcaptcha: b, mcaptchaSiteKey: sN, mcaptchaInstanceUrl: sN,
  mcaptchaSecretKey: sN, enableRecaptcha: b, recaptchaSiteKey: sN, recaptchaSecretKey: sN, enableTurnstile: b,
  turnstileSiteKey: sN, turnstileSecretKey: sN, enableTestcaptcha: b, googleAnalyticsMeasurementId: sN,
  sensitiveMediaDetection: { type: 'string', enum: ['none', 'all', 'local', 'remote'] },
  sensitiveMediaDetectionSensitivity: { type: 'string', enum: ['medium', 'low', 'high', 'veryLow', 'veryHigh'] },
  setSensitiveFlagAutomatically: b, enableSensitiveMediaDetectionForVideos: b, maintainerName: sN,
  maintainerEmail: sN, langs: arr, deeplAuthKey: sN, deeplIsPro: b, enableEmail: b, email: sN, smtpSecure: b,
  smtpHost: sN, smtpPort: nN, smtpUser: sN, smtpPass: sN, enableServiceWorker: b, swPublicKey: sN,
  swPrivateKey: sN, tosUrl: sN, repositoryUrl: sN, feedbackUrl: sN, impressumUrl: sN, privacyPolicyUrl: sN,
  inquiryUrl: sN, useObjectStorage: b, objectStorageBaseUrl: sN, objectStorageBucket: sN,
  objectStoragePrefix: sN, objectStorageEndpoint: sN, objectStorageRegion: sN, objectStoragePort: nN,
  objectStorageAccessKey: sN, objectStorageSecretKey: sN, objectStorageUseSSL: b, objectStorageUseProxy: b,
  objectStorageSetPublicRead: b, objectStorageS3ForcePathStyle: b, enableIpLogging: b,
  enableActiveEmailValidation: b, enableVerifymailApi: b, verifymailAuthKey: sN, enableTruemailApi: b,
  truemailInstance: sN, truemailAuthKey: sN, enableChartsForRemoteUser: b, enableChartsForFederatedInstances: b,
  enableStatsForFederatedInstances: b, enableServerMachineStats: b, enableIdenticonGeneration: b,
  serverRules: arr, bannedEmailDomains: arr, preservedUsernames: arr, manifestJsonOverride: s,
  enableFanoutTimeline: b, enableFanoutTimelineDbFallback: b, perLocalUserUserTimelineCacheMax: n,
  perRemoteUserUserTimelineCacheMax: n, perUserHomeTimelineCacheMax: n, perUserListTimelineCacheMax: n,
  enableReactionsBuffering: b, notesPerOneAd: n, silencedHosts: arrN, mediaSilencedHosts: arrN,
  summalyProxy: sN, urlPreviewEnabled: b, urlPreviewAllowRedirect: b, urlPreviewTimeout: n,
  urlPreviewMaximumContentLength: n, urlPreviewRequireContentLength: b, urlPreviewUserAgent: sN,
  urlPreviewSummaryProxyUrl: sN, federation: { type: 'string', enum: ['all', 'none', 'specified'] },
  federationHosts: arr,
  deliverSuspendedSoftware: { type: 'array', items: { type: 'object', required: ['software', 'versionRange'], properties: { software: s, versionRange: s } } },
  singleUserMode: b, ugcVisibilityForVisitor: { type: 'string', enum: ['all', 'local', 'none'] },
  proxyRemoteFiles: b, signToActivityPubGet: b, allowExternalApRedirect: b, enableRemoteNotesCleaning: b,
  remoteNotesCleaningExpiryDaysForEachNotes: n, remoteNotesCleaningMaxProcessingDurationInMinutes: n,
  showRoleBadgesOfRemoteUsers: b,
} as const satisfies Record<keyof Req, Schema>;

/** Every key misskey-js knows is present here (checked at compile time, both ways). */
type _AllKeys = keyof Req extends keyof typeof properties ? true : never;
export const allKeysCovered: _AllKeys = true;

/** The update-meta param schema. */
export const updateMetaParams: ObjectSchema = { type: 'object', properties };
