import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app';
import { initI18n, resolveLanguage } from './i18n';
import { useStore, wireEvents } from './stores/store';
import './styles.css';

/** Entry: wire main's events once, load, render. */
const root = createRoot(document.getElementById('root')!);
initI18n(resolveLanguage('system', navigator.languages));
try {
  wireEvents();
  void useStore.getState().init();
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
} catch (e) {
  document.getElementById('root')!.textContent = (e as Error).message;
}
