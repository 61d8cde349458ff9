/**
 * UserEntityService.pack for the three shapes the app sees: UserLite, UserDetailedNotMe and
 * MeDetailed. Every key misskey-js declares is filled, so typed clients and `Object.keys` counts
 * behave as with Misskey.
 */
import type { entities } from 'misskey-js';
import { isAdministrator, isModerator, type UserRow } from './state';

/** What packing needs besides the row. */
export interface PackEnv {
  readonly url: string;
  readonly rootUserId: string | null;
  readonly policies: entities.RolePolicies;
}

export function packUserLite(u: UserRow, env: PackEnv): entities.UserLite {
  return {
    id: u.id,
    name: u.name,
    username: u.username,
    host: u.host,
    avatarUrl: `${env.url}/identicon/${encodeURIComponent(u.username)}@${u.host ?? new URL(env.url).host}`,
    avatarBlurhash: null,
    avatarDecorations: [],
    isBot: u.isBot,
    isCat: u.isCat,
    emojis: {},
    onlineStatus: 'unknown',
    badgeRoles: [],
  };
}

function detailedOnly(u: UserRow, withRelation: boolean): entities.UserDetailedNotMeOnly {
  const base: entities.UserDetailedNotMeOnly = {
    url: u.host === null ? null : `https://${u.host}/@${u.username}`,
    uri: u.host === null ? null : `https://${u.host}/users/${u.id}`,
    movedTo: null,
    alsoKnownAs: null,
    createdAt: u.createdAt.toISOString(),
    updatedAt: null,
    lastFetchedAt: null,
    bannerUrl: null,
    bannerBlurhash: null,
    isLocked: u.isLocked,
    isSilenced: false,
    isSuspended: u.isSuspended,
    description: u.description,
    location: null,
    birthday: null,
    lang: null,
    fields: [],
    verifiedLinks: [],
    followersCount: 0,
    followingCount: 0,
    notesCount: u.notesCount,
    pinnedNoteIds: [],
    pinnedNotes: [],
    pinnedPageId: null,
    pinnedPage: null,
    publicReactions: true,
    followingVisibility: 'public',
    followersVisibility: 'public',
    chatScope: 'mutual',
    canChat: true,
    roles: [],
    memo: null,
  };
  if (!withRelation) return base;
  return {
    ...base,
    twoFactorEnabled: false,
    usePasswordLessLogin: false,
    securityKeys: false,
    isFollowing: false,
    isFollowed: false,
    hasPendingFollowRequestFromYou: false,
    hasPendingFollowRequestToYou: false,
    isBlocking: false,
    isBlocked: false,
    isMuted: false,
    isRenoteMuted: false,
    notify: 'none',
    withReplies: false,
  };
}

/** users/show for someone else; relation keys only when the caller is signed in (row 29). */
export function packUserDetailed(u: UserRow, env: PackEnv, signedIn: boolean): entities.UserDetailedNotMe {
  return { ...packUserLite(u, env), ...detailedOnly(u, signedIn) };
}

/** `i` and admin/accounts/create: the caller's own MeDetailed. */
export function packMe(u: UserRow, env: PackEnv): entities.MeDetailed {
  const me: entities.MeDetailedOnly = {
    avatarId: null,
    bannerId: null,
    followedMessage: null,
    isModerator: isModerator(u, env.rootUserId),
    isAdmin: isAdministrator(u, env.rootUserId),
    injectFeaturedNote: true,
    receiveAnnouncementEmail: true,
    alwaysMarkNsfw: false,
    autoSensitive: false,
    carefulBot: false,
    autoAcceptFollowed: true,
    noCrawle: false,
    preventAiLearning: true,
    isExplorable: true,
    isDeleted: false,
    twoFactorBackupCodesStock: 'none',
    hideOnlineStatus: false,
    hasUnreadSpecifiedNotes: false,
    hasUnreadMentions: false,
    hasUnreadAnnouncement: false,
    unreadAnnouncements: [],
    hasUnreadAntenna: false,
    hasUnreadChannel: false,
    hasUnreadChatMessages: false,
    hasUnreadNotification: false,
    hasPendingReceivedFollowRequest: false,
    unreadNotificationsCount: 0,
    mutedWords: [],
    hardMutedWords: [],
    mutedInstances: [],
    notificationRecieveConfig: {},
    emailNotificationTypes: ['follow', 'receiveFollowRequest'],
    achievements: [],
    loggedInDays: 0,
    policies: env.policies,
    twoFactorEnabled: false,
    usePasswordLessLogin: false,
    securityKeys: false,
    email: null,
    emailVerified: false,
    securityKeysList: [],
  };
  return { ...packUserLite(u, env), ...detailedOnly(u, false), ...me };
}

/** admin/show-user. */
export function packAdminUser(u: UserRow, env: PackEnv): entities.AdminShowUserResponse {
  return {
    email: null,
    emailVerified: false,
    followedMessage: null,
    autoAcceptFollowed: true,
    noCrawle: false,
    preventAiLearning: true,
    alwaysMarkNsfw: false,
    autoSensitive: false,
    carefulBot: false,
    injectFeaturedNote: true,
    receiveAnnouncementEmail: true,
    mutedWords: [],
    mutedInstances: [],
    notificationRecieveConfig: {},
    isModerator: isModerator(u, env.rootUserId),
    isSilenced: false,
    isSuspended: u.isSuspended,
    isHibernated: false,
    lastActiveDate: null,
    moderationNote: u.moderationNote,
    signins: [],
    policies: env.policies,
    roles: [],
    roleAssigns: [],
  };
}
