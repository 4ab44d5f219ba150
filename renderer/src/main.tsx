/** Entry point: builds the platform and stores once, then renders the shell. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { createHttpPlatform } from './platform/http.js';
import { AppContext, type AppServices } from './state/app-context.js';
import { createFeedStore } from './state/feed-store.js';
import { createSessionStore } from './state/session-store.js';
import './styles.css';

const platform = createHttpPlatform();
const services: AppServices = { platform, session: createSessionStore(platform), feed: createFeedStore(platform) };
void services.session.getState().check();

const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');
createRoot(root).render(
  <StrictMode>
    <AppContext.Provider value={services}>
      <App />
    </AppContext.Provider>
  </StrictMode>,
);
