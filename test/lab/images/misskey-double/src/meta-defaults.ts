/**
 * Server settings of a fresh instance, as `admin/meta` shows them on Misskey 2026.5.4
 * (misskey.md §10 row 12: federation "none", cacheRemoteFiles false, cacheRemoteSensitiveFiles
 * true, empty host lists). Typed by misskey-js so a new admin/meta key breaks the build.
 */
import type { Endpoints, entities } from 'misskey-js';

/** What the `meta.settings` JSON column holds; the rest of admin/meta is computed. */
export type ServerSettings = Omit<Endpoints['admin/meta']['res'], 'uri' | 'version' | 'proxyAccountId' | 'policies'>;

/** Role policies of a fresh instance (RoleService DEFAULT_POLICIES). */
export const DEFAULT_POLICIES: entities.RolePolicies = {
  gtlAvailable: true, ltlAvailable: true, canPublicNote: true, mentionLimit: 20, canInvite: false,
  inviteLimit: 0, inviteLimitCycle: 60 * 24 * 7, inviteExpirationTime: 0, canManageCustomEmojis: false,
  canManageAvatarDecorations: false, canSearchNotes: false, canSearchUsers: true, canUseTranslator: true,
  canHideAds: false, canCreateChannel: true, driveCapacityMb: 100, maxFileSizeMb: 30,
  uploadableFileTypes: ['text/plain', 'application/json', 'image/*', 'video/*', 'audio/*'],
  alwaysMarkNsfw: false, canUpdateBioMedia: true, pinLimit: 5, antennaLimit: 5, wordMuteLimit: 200,
  webhookLimit: 3, clipLimit: 10, noteEachClipsLimit: 200, userListLimit: 10, userEachUserListsLimit: 50,
  rateLimitFactor: 1, avatarDecorationLimit: 1, canImportAntennas: true, canImportBlocking: true,
  canImportFollowing: true, canImportMuting: true, canImportUserLists: true, chatAvailability: 'available',
  noteDraftLimit: 10, scheduledNoteLimit: 1, watermarkAvailable: true,
};

/** Settings of a fresh instance. */
export function defaultSettings(): ServerSettings {
  return {
    cacheRemoteFiles: false, cacheRemoteSensitiveFiles: true, emailRequiredForSignup: false,
    enableHcaptcha: false, hcaptchaSiteKey: null, enableMcaptcha: false, mcaptchaSiteKey: null,
    mcaptchaInstanceUrl: null, enableRecaptcha: false, recaptchaSiteKey: null, enableTurnstile: false,
    turnstileSiteKey: null, enableTestcaptcha: false, googleAnalyticsMeasurementId: null, swPublickey: null,
    mascotImageUrl: null, bannerUrl: null, serverErrorImageUrl: null, infoImageUrl: null,
    notFoundImageUrl: null, iconUrl: null, app192IconUrl: null, app512IconUrl: null, enableEmail: false,
    enableServiceWorker: false, translatorAvailable: false, silencedHosts: [], mediaSilencedHosts: [],
    pinnedUsers: [], hiddenTags: [], blockedHosts: [], sensitiveWords: [], prohibitedWords: [],
    prohibitedWordsForNameOfUser: [], bannedEmailDomains: [], preservedUsernames: [],
    hcaptchaSecretKey: null, mcaptchaSecretKey: null, recaptchaSecretKey: null, turnstileSecretKey: null,
    sensitiveMediaDetection: 'none', sensitiveMediaDetectionSensitivity: 'medium',
    setSensitiveFlagAutomatically: false, enableSensitiveMediaDetectionForVideos: false, email: null,
    smtpSecure: false, smtpHost: null, smtpPort: null, smtpUser: null, smtpPass: null, swPrivateKey: null,
    useObjectStorage: false, objectStorageBaseUrl: null, objectStorageBucket: null,
    objectStoragePrefix: null, objectStorageEndpoint: null, objectStorageRegion: null,
    objectStoragePort: null, objectStorageAccessKey: null, objectStorageSecretKey: null,
    objectStorageUseSSL: true, objectStorageUseProxy: true, objectStorageSetPublicRead: false,
    enableIpLogging: false, enableActiveEmailValidation: true, enableVerifymailApi: false,
    verifymailAuthKey: null, enableTruemailApi: false, truemailInstance: null, truemailAuthKey: null,
    enableChartsForRemoteUser: true, enableChartsForFederatedInstances: true,
    enableStatsForFederatedInstances: true, enableServerMachineStats: false,
    enableIdenticonGeneration: true, manifestJsonOverride: '{}', enableFanoutTimeline: true,
    enableFanoutTimelineDbFallback: true, perLocalUserUserTimelineCacheMax: 300,
    perRemoteUserUserTimelineCacheMax: 100, perUserHomeTimelineCacheMax: 300,
    perUserListTimelineCacheMax: 300, enableReactionsBuffering: false, notesPerOneAd: 0,
    backgroundImageUrl: null, deeplAuthKey: null, deeplIsPro: false, defaultDarkTheme: null,
    defaultLightTheme: null,
    clientOptions: { entrancePageStyle: 'classic', showTimelineForVisitor: true, showActivitiesForVisitor: true },
    description: null, disableRegistration: true, impressumUrl: null, maintainerEmail: null,
    maintainerName: null, name: null, shortName: null, objectStorageS3ForcePathStyle: true,
    privacyPolicyUrl: null, inquiryUrl: null, repositoryUrl: 'https://github.com/misskey-dev/misskey',
    feedbackUrl: 'https://github.com/misskey-dev/misskey/issues/new', summalyProxy: null, themeColor: null,
    tosUrl: null, urlPreviewEnabled: true, urlPreviewAllowRedirect: true, urlPreviewTimeout: 10000,
    urlPreviewMaximumContentLength: 10485760, urlPreviewRequireContentLength: true,
    urlPreviewUserAgent: null, urlPreviewSummaryProxyUrl: null, federation: 'none', federationHosts: [],
    deliverSuspendedSoftware: [], singleUserMode: false, ugcVisibilityForVisitor: 'local',
    proxyRemoteFiles: true, signToActivityPubGet: true, allowExternalApRedirect: true,
    enableRemoteNotesCleaning: true, remoteNotesCleaningExpiryDaysForEachNotes: 90,
    remoteNotesCleaningMaxProcessingDurationInMinutes: 60, showRoleBadgesOfRemoteUsers: false,
  };
}
