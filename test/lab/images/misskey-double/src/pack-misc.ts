/** Packers for notes, drive files, emojis, instances and relays (Misskey *EntityService.pack). */
import type { entities } from 'misskey-js';
import type { PackEnv } from './pack-user';
import { packUserLite } from './pack-user';
import type { UserRow } from './state';

export interface DriveFileRow {
  id: string;
  createdAt: Date;
  userId: string | null;
  name: string;
  type: string;
  size: number;
  md5: string;
  accessKey: string;
  comment: string | null;
  isSensitive: boolean;
  properties: Record<string, number | string>;
}
export interface NoteRow {
  id: string;
  createdAt: Date;
  userId: string;
  text: string | null;
  cw: string | null;
  visibility: 'public' | 'home' | 'followers' | 'specified';
  localOnly: boolean;
  fileIds: string[];
}
export interface EmojiRow {
  id: string;
  updatedAt: Date | null;
  name: string;
  host: string | null;
  category: string | null;
  aliases: string[];
  originalUrl: string;
  publicUrl: string;
  type: string | null;
  license: string | null;
  isSensitive: boolean;
  localOnly: boolean;
}
export interface InstanceRow {
  id: string;
  firstRetrievedAt: Date;
  host: string;
  usersCount: number;
  notesCount: number;
  isNotResponding: boolean;
  suspensionState: entities.FederationInstance['suspensionState'];
  softwareName: string | null;
  softwareVersion: string | null;
  moderationNote: string;
}

/** Drive files are served by the double at `${url}/files/${accessKey}`, like Misskey's local storage. */
export function packDriveFile(f: DriveFileRow, url: string): entities.DriveFile {
  return {
    id: f.id,
    createdAt: f.createdAt.toISOString(),
    name: f.name,
    type: f.type,
    md5: f.md5,
    size: f.size,
    isSensitive: f.isSensitive,
    blurhash: null,
    properties: f.properties,
    url: `${url}/files/${f.accessKey}`,
    thumbnailUrl: null,
    comment: f.comment,
    folderId: null,
    folder: null,
    userId: f.userId,
    user: null,
  };
}

export function packNote(n: NoteRow, author: UserRow, files: entities.DriveFile[], env: PackEnv): entities.Note {
  return {
    id: n.id,
    createdAt: n.createdAt.toISOString(),
    text: n.text,
    cw: n.cw,
    userId: n.userId,
    user: packUserLite(author, env),
    replyId: null,
    renoteId: null,
    visibility: n.visibility,
    mentions: [],
    visibleUserIds: [],
    fileIds: n.fileIds,
    files,
    tags: [],
    poll: null,
    emojis: {},
    localOnly: n.localOnly,
    reactionAcceptance: null,
    reactionEmojis: {},
    reactions: {},
    reactionCount: 0,
    renoteCount: 0,
    repliesCount: 0,
  };
}

export function packEmoji(e: EmojiRow): entities.EmojiDetailed {
  return {
    id: e.id,
    aliases: e.aliases,
    name: e.name,
    category: e.category,
    host: e.host,
    url: e.publicUrl || e.originalUrl,
    license: e.license,
    isSensitive: e.isSensitive,
    localOnly: e.localOnly,
    roleIdsThatCanBeUsedThisEmojiAsReaction: [],
  };
}

export function packInstance(
  i: InstanceRow,
  blockedHosts: readonly string[],
  silenced: readonly string[],
  mediaSilenced: readonly string[],
): entities.FederationInstance {
  return {
    id: i.id,
    firstRetrievedAt: i.firstRetrievedAt.toISOString(),
    host: i.host,
    usersCount: i.usersCount,
    notesCount: i.notesCount,
    followingCount: 0,
    followersCount: 0,
    isNotResponding: i.isNotResponding,
    isSuspended: i.suspensionState !== 'none',
    suspensionState: i.suspensionState,
    isBlocked: blockedHosts.some((b) => i.host === b || i.host.endsWith(`.${b}`)),
    softwareName: i.softwareName,
    softwareVersion: i.softwareVersion,
    openRegistrations: null,
    name: null,
    description: null,
    maintainerName: null,
    maintainerEmail: null,
    isSilenced: silenced.includes(i.host),
    isMediaSilenced: mediaSilenced.includes(i.host),
    iconUrl: null,
    faviconUrl: null,
    themeColor: null,
    infoUpdatedAt: null,
    latestRequestReceivedAt: null,
    moderationNote: i.moderationNote,
  };
}
