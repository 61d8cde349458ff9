import { ipcMain, webContents, type IpcMainInvokeEvent } from 'electron';
import { IPC_EVENT, IPC_INVOKE } from '../shared/channels';
import type { AppEvent } from '../shared/jobs';
import type { Dispatch } from '../ipc/router';
import { isTrustedSenderUrl } from './window-options';

/** Routes every `invoke` through the shared dispatcher after checking which frame sent it. */
export function registerIpc(dispatch: Dispatch): void {
  ipcMain.handle(IPC_INVOKE, async (event: IpcMainInvokeEvent, channel: unknown, arg: unknown) => {
    const url = event.senderFrame?.url ?? '';
    if (!isTrustedSenderUrl(url)) return { ok: false, error: { code: 'FORBIDDEN', message: 'Untrusted sender' } };
    if (typeof channel !== 'string') return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: 'Unknown channel' } };
    return dispatch(channel, arg);
  });
}

/** Sends an event to every window showing our own pages. */
export function broadcastToWindows(event: AppEvent): void {
  for (const wc of webContents.getAllWebContents()) {
    if (!wc.isDestroyed() && isTrustedSenderUrl(wc.getURL())) wc.send(IPC_EVENT, event);
  }
}
