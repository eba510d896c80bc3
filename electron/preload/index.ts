/**
 * The preload: one narrow `window.kenv`, never ipcRenderer itself.
 *
 * Bundled to a single CommonJS file (build/build-app.mjs) because a sandboxed preload can require only 'electron'.
 * It imports the channel names only, so zod stays out of the bundle; the main process validates every payload.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent, webUtils } from 'electron';
import type { EventMap, EventName, KenvApi } from '../../shared/ipc.js';
import { EVENT_NAMES, IPC_EVENT, IPC_INVOKE } from '../../shared/ipc-names.js';

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
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld('kenv', api);
