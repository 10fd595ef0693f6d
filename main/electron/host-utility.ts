/** Starts the backend host as an Electron utility process, talking over a MessagePort ([Note: backend host]). */
import { MessageChannelMain, utilityProcess } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostProcess } from '../host/remote-backend.js';

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'host', 'host-utility-entry.js');

export function spawnUtilityHost(): HostProcess {
  const child = utilityProcess.fork(entry, [], { serviceName: 'Facets library', stdio: 'inherit' });
  const { port1, port2 } = new MessageChannelMain();
  child.postMessage({ type: 'port' }, [port2]);
  port1.start();
  return {
    port: {
      post: (m) => port1.postMessage(m),
      onMessage: (listener) => port1.on('message', (e) => listener(e.data)),
    },
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => {
      child.kill();
      port1.close();
    },
  };
}
