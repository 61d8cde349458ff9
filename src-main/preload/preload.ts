import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, IPC_EVENT, IPC_INVOKE } from '../shared/channels';

/**
 * The only bridge between the page and main: one function per contract channel, plus an event
 * subscription. `ipcRenderer` itself is never exposed.
 */
const invoke = Object.fromEntries(CHANNELS.map((c) => [c, (arg: unknown) => ipcRenderer.invoke(IPC_INVOKE, c, arg ?? {})]));

contextBridge.exposeInMainWorld('ohitori', {
  invoke,
  onEvent(listener: (event: unknown) => void): () => void {
    const wrapped = (_e: unknown, payload: unknown): void => listener(payload);
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => ipcRenderer.removeListener(IPC_EVENT, wrapped);
  },
});
