import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppErrorData } from '../../../src-main/shared/errors';
import type { BlockImportPreview, InstanceSettings, UserView } from '../../../src-main/shared/instance';
import { call } from '../../api/client';
import { useStore } from '../../stores/store';
import { DiskUsageLine } from './disk-usage';
import { Panel } from './instance-ui';

/** Stable empty lists for selectors (a new [] per call would re-render forever). */
const NONE: readonly never[] = [];

const SHOWN: readonly (keyof InstanceSettings)[] = [
  'version',
  'name',
  'singleUserMode',
  'disableRegistration',
  'emailRequiredForSignup',
  'enableIpLogging',
  'federation',
  'enableRemoteNotesCleaning',
  'enableFanoutTimeline',
  'enableFanoutTimelineDbFallback',
  'enableReactionsBuffering',
  'entrancePageStyle',
  'cacheRemoteFiles',
  'cacheRemoteSensitiveFiles',
];

/** The settings as read back from admin/meta, and the single-user preset. */
export function SettingsPanel({ profileId, settings }: { readonly profileId: string; readonly settings: InstanceSettings }) {
  const { t } = useTranslation();
  const setSettings = useStore((s) => s.setInstanceSettings);
  const [federate, setFederate] = useState(settings.federation !== 'none');
  const [error, setError] = useState<AppErrorData>();
  const value = (v: unknown): string =>
    v === null || v === undefined
      ? t('instance.settings.unknown')
      : typeof v === 'boolean'
        ? v
          ? t('common.yes')
          : t('common.no')
        : String(v);
  return (
    <Panel title={t('instance.settings.title')} hint={t('instance.settings.hint')} name="settings" error={error}>
      <table className="small">
        <tbody>
          {SHOWN.map((k) => (
            <tr key={k} data-setting={k} data-value={String(settings[k] as unknown)}>
              <th scope="row">{t(`instance.settings.fields.${k}`)}</th>
              <td>{value(settings[k])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <label className="row">
          <input
            type="checkbox"
            name="preset-federate"
            checked={federate}
            onChange={(e) => setFederate(e.target.checked)}
            style={{ width: 'auto' }}
          />
          <span>{t('instance.federate')}</span>
        </label>
        <button
          type="button"
          onClick={async () => {
            const r = await call('instance:apply-preset', { profileId, federate });
            setError(r.ok ? undefined : r.error);
            if (r.ok) setSettings(r.value);
          }}
        >
          {t('instance.settings.applyPreset')}
        </button>
      </div>
    </Panel>
  );
}

/** cacheRemoteFiles, the clean-up job, and where disk use will appear. */
export function RemoteFilesPanel({ profileId, settings }: { readonly profileId: string; readonly settings: InstanceSettings }) {
  const { t } = useTranslation();
  const setSettings = useStore((s) => s.setInstanceSettings);
  const upsertJob = useStore((s) => s.upsertJob);
  const [error, setError] = useState<AppErrorData>();
  return (
    <Panel title={t('instance.remoteFiles.title')} hint={t('instance.remoteFiles.hint')} name="remote-files" error={error}>
      <label className="row" data-cache-remote-files={String(settings.cacheRemoteFiles)}>
        <input
          type="checkbox"
          name="cache-remote-files"
          checked={settings.cacheRemoteFiles}
          style={{ width: 'auto' }}
          onChange={async (e) => {
            const r = await call('instance:set-cache-remote-files', { profileId, enabled: e.target.checked });
            setError(r.ok ? undefined : r.error);
            if (r.ok) setSettings(r.value);
          }}
        />
        <span>{t('instance.remoteFiles.cache')}</span>
      </label>
      <button
        type="button"
        onClick={async () => {
          const r = await call('instance:clean-remote-files', { profileId });
          setError(r.ok ? undefined : r.error);
          if (r.ok) upsertJob(r.value);
        }}
      >
        {t('instance.remoteFiles.clean')}
      </button>
      <DiskUsageLine profileId={profileId} />
    </Panel>
  );
}

/** Name, description, theme colour, icon. */
export function ProfilePanel({ profileId, settings }: { readonly profileId: string; readonly settings: InstanceSettings }) {
  const { t } = useTranslation();
  const setSettings = useStore((s) => s.setInstanceSettings);
  const [name, setName] = useState(settings.name ?? '');
  const [description, setDescription] = useState(settings.description ?? '');
  const [themeColor, setThemeColor] = useState(settings.themeColor ?? '');
  const [iconUrl, setIconUrl] = useState(settings.iconUrl ?? '');
  const [error, setError] = useState<AppErrorData>();
  const [saved, setSaved] = useState(false);
  return (
    <Panel
      title={t('instance.profile.title')}
      name="profile"
      error={error}
      onSubmit={async () => {
        const r = await call('instance:update-profile', {
          profileId,
          name: name.trim() || null,
          description: description || null,
          themeColor: themeColor.trim() || null,
          iconUrl: iconUrl.trim() || null,
        });
        setError(r.ok ? undefined : r.error);
        setSaved(r.ok);
        if (r.ok) setSettings(r.value);
      }}
    >
      <label>
        <span>{t('instance.profile.name')}</span>
        <input name="instance-name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        <span>{t('instance.profile.description')}</span>
        <textarea name="instance-description" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <label>
        <span>{t('instance.profile.themeColor')}</span>
        <input name="instance-theme-color" placeholder="#2b3a67" value={themeColor} onChange={(e) => setThemeColor(e.target.value)} />
      </label>
      <label>
        <span>{t('instance.profile.iconUrl')}</span>
        <input name="instance-icon-url" placeholder="https://" value={iconUrl} onChange={(e) => setIconUrl(e.target.value)} />
      </label>
      <button type="submit">{t('common.save')}</button>
      {saved && <p data-saved>{t('instance.saved')}</p>}
    </Panel>
  );
}

export function RelaysPanel({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const relays = useStore((s) => s.instanceRelays ?? NONE);
  const setRelays = useStore((s) => s.setInstanceRelays);
  const [inbox, setInbox] = useState('');
  const [error, setError] = useState<AppErrorData>();
  return (
    <Panel
      title={t('instance.relays.title')}
      hint={t('instance.relays.hint')}
      name="relays"
      error={error}
      onSubmit={async () => {
        const r = await call('instance:relay-add', { profileId, inbox });
        setError(r.ok ? undefined : r.error);
        if (r.ok) {
          setRelays(r.value);
          setInbox('');
        }
      }}
    >
      {relays.length === 0 ? (
        <p className="muted small">{t('instance.relays.none')}</p>
      ) : (
        <ul className="plain">
          {relays.map((r) => (
            <li key={r.id} className="row spread" data-relay-inbox={r.inbox} data-relay-status={r.status}>
              <code>{r.inbox}</code>
              <span className="badge">{t(`instance.relays.states.${r.status}`)}</span>
              <button
                type="button"
                onClick={async () => {
                  const x = await call('instance:relay-remove', { profileId, inbox: r.inbox });
                  setError(x.ok ? undefined : x.error);
                  if (x.ok) setRelays(x.value);
                }}
              >
                {t('instance.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <label>
        <span>{t('instance.relays.inbox')}</span>
        <input name="relay-inbox" placeholder="https://relay.example/inbox" value={inbox} onChange={(e) => setInbox(e.target.value)} />
      </label>
      <button type="submit">{t('instance.relays.add')}</button>
    </Panel>
  );
}

/** Block list: shows what was read; every change is checked against it (changed elsewhere → refused). */
export function BlocksPanel({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const blocks = useStore((s) => s.instanceBlocks ?? NONE);
  const setBlocks = useStore((s) => s.setInstanceBlocks);
  const upsertJob = useStore((s) => s.upsertJob);
  const [host, setHost] = useState('');
  const [error, setError] = useState<AppErrorData>();
  const [text, setText] = useState('');
  const [preview, setPreview] = useState<BlockImportPreview>();
  const [importError, setImportError] = useState<AppErrorData>();
  const [delivery, setDelivery] = useState('');
  const [deliveryError, setDeliveryError] = useState<AppErrorData>();
  const [deliveryDone, setDeliveryDone] = useState<string>();

  const change = async (a: { add?: string[]; remove?: string[] }): Promise<boolean> => {
    const r = await call('instance:blocks-update', { profileId, expected: [...blocks], ...a });
    setError(r.ok ? undefined : r.error);
    if (r.ok) setBlocks(r.value);
    else if (r.error.code === 'MISSKEY_CHANGED_ELSEWHERE' && Array.isArray(r.error.details?.current))
      setBlocks(r.error.details.current as string[]);
    return r.ok;
  };

  return (
    <>
      <Panel
        title={t('instance.blocks.title')}
        hint={t('instance.blocks.hint')}
        name="blocks"
        error={error}
        onSubmit={async () => {
          if (await change({ add: [host] })) setHost('');
        }}
      >
        <p className="small" data-blocked-count={blocks.length}>
          {t('instance.blocks.count', { count: blocks.length })}
          {blocks.length > 300 && ` ${t('instance.blocks.firstShown', { shown: 300 })}`}
        </p>
        <ul className="plain scroll">
          {blocks.slice(0, 300).map((h) => (
            <li key={h} className="row spread" data-blocked-host={h}>
              <code>{h}</code>
              <button type="button" onClick={() => void change({ remove: [h] })}>
                {t('instance.remove')}
              </button>
            </li>
          ))}
        </ul>
        <label>
          <span>{t('instance.blocks.host')}</span>
          <input name="block-host" placeholder="spam.example" value={host} onChange={(e) => setHost(e.target.value)} />
        </label>
        <div className="row">
          <button type="submit">{t('instance.blocks.add')}</button>
          <button
            type="button"
            onClick={async () => {
              const r = await call('instance:blocks', { profileId });
              setError(r.ok ? undefined : r.error);
              if (r.ok) setBlocks(r.value);
            }}
          >
            {t('instance.reload')}
          </button>
        </div>
      </Panel>
      <Panel title={t('instance.blocks.importTitle')} hint={t('instance.blocks.importHint')} name="block-import" error={importError}>
        <textarea name="block-import-text" rows={6} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
        <div className="row">
          <button
            type="button"
            onClick={async () => {
              const r = await call('instance:blocks-import-preview', { profileId, text });
              setImportError(r.ok ? undefined : r.error);
              setPreview(r.ok ? r.value : undefined);
              if (r.ok) setBlocks(r.value.base);
            }}
          >
            {t('instance.blocks.preview')}
          </button>
          {preview && preview.added.length > 0 && (
            <button
              type="button"
              className="primary"
              onClick={async () => {
                const r = await call('instance:blocks-import', { profileId, text, expected: [...preview.base] });
                setImportError(r.ok ? undefined : r.error);
                if (r.ok) {
                  upsertJob(r.value);
                  setPreview(undefined);
                  setText('');
                }
              }}
            >
              {t('instance.blocks.apply', { count: preview.added.length })}
            </button>
          )}
        </div>
        {preview && (
          <div
            data-import-preview
            data-added={preview.added.length}
            data-duplicates={preview.duplicates}
            data-invalid={preview.invalid}
            data-already={preview.alreadyBlocked}
          >
            <p>
              {t('instance.blocks.previewSummary', {
                total: preview.total,
                added: preview.added.length,
                duplicates: preview.duplicates,
                invalid: preview.invalid,
                already: preview.alreadyBlocked,
              })}
            </p>
            {preview.samples.length > 0 && (
              <ul className="plain small scroll">
                {preview.samples.map((s) => (
                  <li key={`${s.line}`} data-rejected-line={s.line} data-reason={s.reason}>
                    {t('instance.blocks.rejected', { line: s.line, text: s.text, reason: t(`instance.blocks.reasons.${s.reason}`) })}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </Panel>
      <Panel title={t('instance.delivery.title')} hint={t('instance.delivery.hint')} name="delivery" error={deliveryError}>
        <label>
          <span>{t('instance.blocks.host')}</span>
          <input name="delivery-host" value={delivery} onChange={(e) => setDelivery(e.target.value)} />
        </label>
        <div className="row">
          {[true, false].map((suspended) => (
            <button
              key={String(suspended)}
              type="button"
              onClick={async () => {
                const r = await call('instance:delivery', { profileId, host: delivery, suspended });
                setDeliveryError(r.ok ? undefined : r.error);
                setDeliveryDone(
                  r.ok ? t(suspended ? 'instance.delivery.stopped' : 'instance.delivery.resumed', { host: r.value.host }) : undefined,
                );
              }}
            >
              {t(suspended ? 'instance.delivery.stop' : 'instance.delivery.resume')}
            </button>
          ))}
        </div>
        {deliveryDone && <p data-delivery-done>{deliveryDone}</p>}
      </Panel>
    </>
  );
}

export function UsersPanel({ profileId }: { readonly profileId: string }) {
  const { t } = useTranslation();
  const [acct, setAcct] = useState('');
  const [user, setUser] = useState<UserView & { protected?: string | null }>();
  const [error, setError] = useState<AppErrorData>();
  const suspend = async (suspended: boolean): Promise<void> => {
    const r = await call('instance:user-suspend', { profileId, acct, suspended });
    setError(r.ok ? undefined : r.error);
    if (r.ok) setUser(r.value);
  };
  return (
    <Panel
      title={t('instance.users.title')}
      hint={t('instance.users.hint')}
      name="user"
      error={error}
      onSubmit={async () => {
        const r = await call('instance:user-lookup', { profileId, acct });
        setError(r.ok ? undefined : r.error);
        setUser(r.ok ? r.value : undefined);
      }}
    >
      <label>
        <span>{t('instance.users.acct')}</span>
        <input name="user-acct" placeholder="@user@host" value={acct} onChange={(e) => setAcct(e.target.value)} />
      </label>
      <div className="row">
        <button type="submit">{t('instance.users.lookup')}</button>
        <button type="button" onClick={() => void suspend(true)}>
          {t('instance.users.suspend')}
        </button>
        <button type="button" onClick={() => void suspend(false)}>
          {t('instance.users.unsuspend')}
        </button>
      </div>
      {user && (
        <p data-user={user.host ? `@${user.username}@${user.host}` : `@${user.username}`} data-user-suspended={String(user.isSuspended)}>
          {user.host ? `@${user.username}@${user.host}` : `@${user.username}`} {user.name ? `(${user.name})` : ''} —{' '}
          {user.isSuspended ? t('instance.users.isSuspended') : t('instance.users.notSuspended')}
        </p>
      )}
    </Panel>
  );
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function EmojiPanels({ profileId, native }: { readonly profileId: string; readonly native: boolean }) {
  const { t } = useTranslation();
  const upsertJob = useStore((s) => s.upsertJob);
  const [name, setName] = useState('');
  const [category, setCategory] = useState('');
  const [file, setFile] = useState<File>();
  const [error, setError] = useState<AppErrorData>();
  const [added, setAdded] = useState<string>();
  const [path, setPath] = useState('');
  const [zipError, setZipError] = useState<AppErrorData>();
  return (
    <>
      <Panel
        title={t('instance.emoji.title')}
        hint={t('instance.emoji.hint')}
        name="emoji-add"
        error={error}
        onSubmit={async () => {
          if (!file) return;
          if (file.size > 2 * 1024 * 1024) {
            setError({ code: 'INVALID_ARGUMENT', message: 'too large', details: { field: 'file' } });
            return;
          }
          const dataBase64 = toBase64(new Uint8Array(await file.arrayBuffer()));
          const r = await call('instance:emoji-add', {
            profileId,
            name,
            fileName: file.name,
            dataBase64,
            ...(category ? { category } : {}),
          });
          setError(r.ok ? undefined : r.error);
          setAdded(r.ok ? r.value.name : undefined);
        }}
      >
        <label>
          <span>{t('instance.emoji.name')}</span>
          <input name="emoji-name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          <span>{t('instance.emoji.category')}</span>
          <input name="emoji-category" value={category} onChange={(e) => setCategory(e.target.value)} />
        </label>
        <label>
          <span>{t('instance.emoji.file')}</span>
          <input
            type="file"
            name="emoji-file"
            accept="image/png,image/jpeg,image/gif,image/webp,image/avif"
            onChange={(e) => setFile(e.target.files?.[0])}
          />
        </label>
        <button type="submit" disabled={!file}>
          {t('instance.emoji.add')}
        </button>
        {added && <p data-emoji-added={added}>{t('instance.emoji.added', { name: added })}</p>}
      </Panel>
      <Panel
        title={t('instance.emoji.zipTitle')}
        hint={t('instance.emoji.zipHint')}
        name="emoji-zip"
        error={zipError}
        onSubmit={async () => {
          const r = await call('instance:emoji-import-zip', { profileId, path });
          setZipError(r.ok ? undefined : r.error);
          if (r.ok) upsertJob(r.value);
        }}
      >
        <p className="warning small" role="note" data-warning="home-network">
          {t('instance.emoji.homeNetworkWarning')}
        </p>
        {!native && <p className="small muted">{t('instance.emoji.nativeOnly')}</p>}
        <label>
          <span>{t('instance.emoji.zipPath')}</span>
          <input name="emoji-zip-path" placeholder="/home/me/emojis.zip" value={path} onChange={(e) => setPath(e.target.value)} />
        </label>
        <button type="submit">{t('instance.emoji.import')}</button>
      </Panel>
    </>
  );
}
