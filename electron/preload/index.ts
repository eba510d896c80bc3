/**
 * The preload: one narrow `window.kenv`, never ipcRenderer itself.
 *
 * Bundled to a single CommonJS file (build/build-app.mjs) because a sandboxed preload can require only 'electron'.
 * It imports the channel names only, so zod stays out of the bundle; the main process validates every payload.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent, webUtils } from 'electron';
import type { EventMap, EventName, KenvApi } from '../../shared/ipc.js';
import { EVENT_NAMES, IPC_DROP, IPC_EVENT, IPC_INVOKE } from '../../shared/ipc-names.js';

const api: KenvApi = {
  invoke: (channel, request) => ipcRenderer.invoke(IPC_INVOKE, channel, request),
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void) {
    if (!(EVENT_NAMES as readonly string[]).includes(event)) throw new Error(`Unknown event ${String(event)}.`);
    // The IPC event object is stripped: the page gets the payload only.
    const forward = (_e: IpcRendererEvent, message: { event: string; payload: EventMap[E] }) => {
      if (message.event === event) listener(message.payload);
    };
    ipcRenderer.on(IPC_EVENT, forward);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, forward);
    };
  },
  // The one call that grants paths: each comes from webUtils.getPathForFile, so the page can hand over only Files the
  // user dropped or picked, never a path string of its own. A File the page made has no path ('') and is left out.
  dropFiles(files) {
    const list: unknown[] = Array.isArray(files) ? files : [];
    const paths: string[] = [];
    for (const file of list) {
      try {
        // Throws for anything that is not a File; '' for a File the page constructed.
        const path = webUtils.getPathForFile(file as File);
        if (path !== '') paths.push(path);
      } catch {
        // Not a File: nothing to grant.
      }
    }
    return ipcRenderer.invoke(IPC_DROP, paths);
  },
};

contextBridge.exposeInMainWorld('kenv', api);
