import type { Channel } from '../../src-main/shared/channels';
import type { AppEvent } from '../../src-main/shared/jobs';
import type { Result } from '../../src-main/shared/result';

/** How the renderer reaches main: Electron's preload bridge, or browser mode's HTTP + WebSocket. */
export interface Transport {
  readonly kind: 'electron' | 'browser';
  invoke(channel: Channel, arg: unknown): Promise<Result<unknown>>;
  /** Subscribes to events; `onReconnect` fires after a lost socket comes back (resync then). */
  onEvent(listener: (e: AppEvent) => void, onConnection?: (connected: boolean) => void): () => void;
}

interface Bridge {
  invoke: Record<Channel, (arg: unknown) => Promise<Result<unknown>>>;
  onEvent(listener: (e: unknown) => void): () => void;
}

declare global {
  interface Window {
    ohitori?: Bridge;
  }
}

const TOKEN_KEY = 'ohitori.token';

/** Reads the browser-mode token from `#token=` once, keeps it for reloads, and clears it from the address bar. */
function takeToken(): string | undefined {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (m?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, '', window.location.pathname + window.location.search);
    return m[1];
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

function electronTransport(bridge: Bridge): Transport {
  return {
    kind: 'electron',
    invoke: (channel, arg) => bridge.invoke[channel](arg),
    onEvent: (listener, onConnection) => {
      onConnection?.(true);
      return bridge.onEvent((e) => listener(e as AppEvent));
    },
  };
}

function browserTransport(token: string): Transport {
  return {
    kind: 'browser',
    async invoke(channel, arg) {
      try {
        const res = await fetch(`/api/invoke/${channel}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(arg ?? {}),
        });
        return (await res.json()) as Result<unknown>;
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: 'The app did not answer' } };
      }
    },
    onEvent(listener, onConnection) {
      let ws: WebSocket | undefined;
      let stopped = false;
      let delay = 250;
      const connect = (): void => {
        const proto = location.protocol === 'https:' ? 'wss' : 'ws';
        ws = new WebSocket(`${proto}://${location.host}/api/events`, ['ohitori.v1', `token.${token}`]);
        ws.onopen = () => {
          delay = 250;
          onConnection?.(true);
        };
        ws.onmessage = (m) => listener(JSON.parse(String(m.data)) as AppEvent);
        ws.onclose = () => {
          if (stopped) return;
          onConnection?.(false);
          setTimeout(connect, delay);
          delay = Math.min(delay * 2, 5000);
        };
      };
      connect();
      return () => {
        stopped = true;
        ws?.close();
      };
    },
  };
}

export function createTransport(): Transport {
  if (window.ohitori) return electronTransport(window.ohitori);
  const token = takeToken();
  if (!token) throw new Error('No access token: open the address that `npm run start:web` printed.');
  return browserTransport(token);
}
