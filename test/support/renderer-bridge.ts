import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventMap, EventName } from '../../shared/ipc.js';
import { type Grants, grantDropped } from '../../electron/core/app/grants.js';
import type { HandlerRegistry } from '../../electron/core/app/registry.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/** Forwards `jobs:changed` and friends to every connected page, and remembers them for assertions. */
export class SocketSink {
  readonly sockets = new Set<WebSocket>();
  readonly sent: { event: EventName; payload: unknown }[] = [];
  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    this.sent.push({ event, payload });
    const text = JSON.stringify({ event, payload });
    for (const socket of this.sockets) socket.send(text);
  }
}

export interface RendererBridge {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the built renderer over HTTP and the handler registry over a WebSocket on the same origin.
 *
 * This is the test stand-in for Electron's IPC: the page's `window.kenv` (see `bridgeScript`) sends every call as
 * `{id, channel, payload}` and gets back the registry's Result, so the same validation and handlers run as in the app.
 * A drop travels as `{id, drop: paths}` to core's `grantDropped`, the function Electron's drop message reaches.
 */
export async function startRendererBridge(opts: { root: string; registry: HandlerRegistry; sink: SocketSink; grants: Grants }): Promise<RendererBridge> {
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = normalize(join(opts.root, rel));
    if (!file.startsWith(opts.root + sep) || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ server, path: '/bridge' });
  wss.on('connection', (socket) => {
    opts.sink.sockets.add(socket);
    socket.on('close', () => opts.sink.sockets.delete(socket));
    socket.on('message', async (data) => {
      let message: { id?: unknown; channel?: unknown; payload?: unknown; drop?: unknown };
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      const result = 'drop' in message ? await grantDropped(opts.grants, message.drop) : await opts.registry.invoke(message.channel, message.payload);
      socket.send(JSON.stringify({ id: message.id, result }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The page-side half of the bridge, injected before the renderer's own scripts (Playwright `addInitScript`).
 *
 * A browser `File` has no path, so `dropFiles` maps each to `<dropRoot>/<name>`: the test writes the real file there
 * before it drops a `File` of that name, which is what `webUtils.getPathForFile` gives the preload in Electron. (In
 * Electron a `File` the page built itself has no path; here the tests' drops are such Files, so every name maps.)
 */
export function bridgeScript(dropRoot: string): string {
  return `(() => {
  if (location.protocol !== 'http:') return;
  const dropRoot = ${JSON.stringify(dropRoot)};
  const socket = new WebSocket('ws://' + location.host + '/bridge');
  const opened = new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  const pending = new Map();
  const listeners = new Map();
  let next = 1;
  socket.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.event) {
      for (const fn of listeners.get(msg.event) || []) fn(msg.payload);
      return;
    }
    const resolve = pending.get(msg.id);
    pending.delete(msg.id);
    if (resolve) resolve(msg.result);
  };
  const send = async (message) => {
    await opened;
    const id = next++;
    return new Promise((resolve) => { pending.set(id, resolve); socket.send(JSON.stringify({ id, ...message })); });
  };
  const api = {
    invoke: (channel, payload) => send({ channel, payload }),
    dropFiles: (files) => send({ drop: (Array.isArray(files) ? files : []).filter((f) => f instanceof File).map((f) => dropRoot + '/' + f.name) }),
    on: (event, fn) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
      return () => listeners.get(event).delete(fn);
    },
  };
  Object.defineProperty(window, 'kenv', { value: Object.freeze(api), writable: false });
})();`;
}
