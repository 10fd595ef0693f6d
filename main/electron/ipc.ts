/**
 * Registers one ipcMain handler per channel of the API contract. Every call checks that it comes from
 * Facets' own renderer page before the shared handler runs.
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { pathToFileURL } from 'node:url';
import { CHANNELS } from '../api/contract.js';
import { handle } from '../api/handlers.js';

export function registerIpc(rendererIndex: string): void {
  const allowed = pathToFileURL(rendererIndex).href;
  const trusted = (event: IpcMainInvokeEvent) => event.senderFrame?.url.split('#')[0] === allowed;
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, (event, request: unknown) => {
      if (!trusted(event)) throw new Error(`refused ${channel} from an untrusted frame`);
      return handle(channel, request);
    });
  }
}
