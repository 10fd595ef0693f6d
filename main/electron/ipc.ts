/**
 * Registers one ipcMain handler per channel of the API contract, forwards the backend's events to the
 * window, and answers the desktop-only folder picker. Every call checks that it comes from the top
 * frame of Facets' own renderer page before the backend sees it; the backend validates the request.
 */
import { type BrowserWindow, type IpcMainInvokeEvent, dialog, ipcMain, shell } from 'electron';
import { ApiError, type Backend } from '../api/backend.js';
import { CHANNELS, EVENTS } from '../api/contract.js';
import { CHOOSE_FOLDER, SHOW_IN_FOLDER } from './bridge.js';

export interface IpcOptions {
  backend: Backend;
  /** The renderer page's URL (file:///…/index.html); calls from anything else are refused. */
  rendererUrl: string;
  /** The window events go to. */
  window: () => BrowserWindow | null;
}

/** True when the URL is the renderer page itself (hash and query ignored). */
export function isRendererUrl(url: string, rendererUrl: string): boolean {
  return url.split(/[?#]/)[0] === rendererUrl;
}

/** Registers the handlers; returns a function that removes them. */
export function registerIpc({ backend, rendererUrl, window }: IpcOptions): () => void {
  const trusted = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    return frame !== null && frame.parent === null && isRendererUrl(frame.url, rendererUrl);
  };

  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event, request: unknown) => {
      if (!trusted(event)) throw new Error(`refused ${channel} from an untrusted frame`);
      try {
        return await backend.handle(channel, request);
      } catch (err) {
        // Only ApiError messages are meant for the user; the rest is logged here.
        if (err instanceof ApiError) throw new Error(err.message, { cause: err });
        console.error(`facets: ${channel} failed`, err);
        throw new Error('internal error', { cause: err });
      }
    });
  }

  ipcMain.handle(CHOOSE_FOLDER, async (event) => {
    if (!trusted(event)) throw new Error('refused the folder picker to an untrusted frame');
    const owner = window();
    const options: Electron.OpenDialogOptions = {
      title: 'Choose a photo folder',
      buttonLabel: 'Add folder',
      properties: ['openDirectory'],
    };
    const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });

  // Only a photo of the library, by id: the renderer never names an arbitrary path to reveal.
  ipcMain.handle(SHOW_IN_FOLDER, async (event, photoId: unknown) => {
    if (!trusted(event)) throw new Error('refused show-in-folder to an untrusted frame');
    const photo = await backend.handle('photo:get', { id: photoId });
    shell.showItemInFolder(photo.path);
  });

  const unsubscribe = EVENTS.map((name) =>
    backend.on(name, (payload) => {
      const win = window();
      if (!win || win.isDestroyed() || !isRendererUrl(win.webContents.getURL(), rendererUrl)) return;
      win.webContents.send(name, payload);
    }),
  );

  return () => {
    for (const channel of [...CHANNELS, CHOOSE_FOLDER, SHOW_IN_FOLDER]) ipcMain.removeHandler(channel);
    for (const off of unsubscribe) off();
  };
}
