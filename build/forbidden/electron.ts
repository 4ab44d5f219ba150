// tsconfig.app.json maps `electron` here so that an import of it from app/ fails the typecheck:
// the core must run headless (`cupola serve`); only main/ may import Electron (CONVENTIONS, habit 1).
const appMustNotImportElectron: 'app/ must not import electron: move this code to main/' = 'forbidden';
export default appMustNotImportElectron;
