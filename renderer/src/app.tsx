/** Top-level switch: login screen until signed in, then the shell. */
import { Shell } from './components/shell.js';
import { useSession } from './state/app-context.js';
import { LoginView } from './views/login-view.js';

/** The whole UI. */
export function App() {
  const phase = useSession((s) => s.phase);
  if (phase === 'checking') return <div className="splash">Connecting…</div>;
  if (phase !== 'signed-in') return <LoginView />;
  return <Shell />;
}
