/**
 * Electron main process: window, menu, security policy, and the two transports' desktop half (IPC and
 * the media protocol). The library backend runs in a utility process of its own, relayed by
 * `RemoteBackend` ([Note: backend host] in main/host/remote-backend.ts). Keep this file thin: it is the
 * one part of Facets that cannot be tested without the Electron binary.
 */
import { BrowserWindow, Menu, app, dialog, screen, session, shell } from 'electron';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../api/backend.js';
import { RemoteBackend } from '../host/remote-backend.js';
import { defaultDbPath } from '../library/paths.js';
import { handleAppProtocol } from './app-protocol.js';
import { spawnUtilityHost } from './host-utility.js';
import { registerIpc } from './ipc.js';
import { handleMediaProtocol, registerMediaScheme } from './media-protocol.js';
import { RENDERER_URL, isAllowedExternalUrl } from './policy.js';
import { MIN_SIZE, loadWindowState, trackWindowState } from './window-state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.join(here, '..', '..', 'renderer');
// Served by the app protocol with the CSP as a header, not from file:// (policy.ts).
const rendererUrl = RENDERER_URL;
const preload = path.join(here, '..', '..', 'preload', 'preload.cjs');

// Every renderer sandboxed, whatever a window's options say.
app.enableSandbox();

// Tests and portable setups may move the app's own state (window state, caches) elsewhere.
const userData = process.env['FACETS_USER_DATA'];
if (userData) app.setPath('userData', path.resolve(userData));

registerMediaScheme();

let mainWindow: BrowserWindow | null = null;
let backend: Backend | null = null;

function createWindow(): BrowserWindow {
  const stateFile = path.join(app.getPath('userData'), 'window-state.json');
  const state = loadWindowState(
    stateFile,
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const win = new BrowserWindow({
    ...(state.saved ? state.bounds : { width: state.bounds.width, height: state.bounds.height }),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'Facets',
    show: false,
    backgroundColor: '#16171a',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  if (state.maximized) win.maximize();
  trackWindowState(win, stateFile);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(rendererUrl);
  return win;
}

function buildMenu(dbPath: string): Menu {
  const template: Electron.MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged
          ? []
          : [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Show Library File', click: () => shell.showItemInFolder(dbPath) },
        { label: 'About Facets', click: () => app.showAboutPanel() },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}

function lockDown(): void {
  // No permission (camera, geolocation, notifications…) is ever granted to the renderer.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    // The page never navigates: every view is inside the one renderer page.
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    // New windows are denied; links on the allow-list open in the system browser, others nowhere.
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternalUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  lockDown();
  void app.whenReady().then(async () => {
    const dbPath = defaultDbPath();
    let library: Backend;
    try {
      mkdirSync(path.dirname(dbPath), { recursive: true });
      library = await RemoteBackend.start({
        spawn: spawnUtilityHost,
        backend: { dbPath },
        onState: (state, detail) => {
          // The app says so when the library process dies (and again if it cannot be brought back).
          if ((state === 'restarting' || state === 'failed') && detail) {
            const options = {
              type: state === 'failed' ? ('error' as const) : ('warning' as const),
              title: 'Facets',
              message: state === 'failed' ? 'The library stopped working' : 'The library process stopped',
              detail: `${detail}. Your photos, faces and corrections are safe in the library file.`,
            };
            void (mainWindow ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options));
          }
        },
      });
    } catch (err) {
      dialog.showErrorBox('Facets could not open its library', `${dbPath}\n\n${(err as Error).message}`);
      app.exit(1);
      return;
    }
    backend = library;
    handleMediaProtocol(library);
    handleAppProtocol(rendererDir);
    registerIpc({ backend: library, rendererUrl, window: () => mainWindow });
    Menu.setApplicationMenu(buildMenu(dbPath));
    mainWindow = createWindow();
    app.on('activate', () => {
      if (!mainWindow) mainWindow = createWindow();
    });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Close the library (stops scan workers, flushes SQLite) before quitting.
  app.on('will-quit', (event) => {
    if (!backend) return;
    const closing = backend;
    backend = null;
    event.preventDefault();
    void closing.close().finally(() => app.quit());
  });
}
