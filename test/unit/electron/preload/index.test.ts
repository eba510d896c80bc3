// The preload against a mocked `electron`: what the page gets as window.kenv, and what reaches ipcRenderer.
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KenvApi } from '../../../../shared/ipc.js';
import { EVENT_NAMES, IPC_DROP, IPC_EVENT, IPC_INVOKE } from '../../../../shared/ipc-names.js';

const electron = vi.hoisted(() => {
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  return {
    exposed: {} as Record<string, unknown>,
    listeners,
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => void (electron.exposed[key] = value) },
    ipcRenderer: {
      invoke: vi.fn(async (..._args: unknown[]) => ({ ok: true, value: 'answer' })),
      on: vi.fn((channel: string, fn: (...args: unknown[]) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(fn);
      }),
      removeListener: vi.fn((channel: string, fn: (...args: unknown[]) => void) => void listeners.get(channel)?.delete(fn)),
    },
    // Like Electron: a path for a File the user dropped, '' for a File the page built, a throw for anything else.
    webUtils: {
      getPathForFile: vi.fn((file: unknown) => {
        if (typeof file !== 'object' || file === null || !('name' in file)) throw new TypeError('not a File');
        const { name, dropped } = file as { name: string; dropped?: boolean };
        return dropped === false ? '' : `/dropped/${name}`;
      }),
    },
  };
});
vi.mock('electron', () => ({ contextBridge: electron.contextBridge, ipcRenderer: electron.ipcRenderer, webUtils: electron.webUtils }));

let kenv: KenvApi;
beforeAll(async () => {
  await import('../../../../electron/preload/index.js');
  kenv = electron.exposed.kenv as KenvApi;
});
beforeEach(() => {
  vi.clearAllMocks();
  electron.listeners.clear();
});

/** What main sends on the event channel, with the IPC event object first as Electron does. */
function emit(message: unknown): void {
  for (const fn of electron.listeners.get(IPC_EVENT) ?? []) fn({ sender: 'the IPC event object' }, message);
}

describe('the preload', () => {
  it('exposes exactly one object, window.kenv, and not ipcRenderer', () => {
    expect(Object.keys(electron.exposed)).toEqual(['kenv']);
    expect(Object.values(kenv)).not.toContain(electron.ipcRenderer);
  });

  it('invoke sends the channel and request on the one invoke message and returns main\'s answer', async () => {
    const answer = await kenv.invoke('keys:list' as never, { region: 'eu-west-1' } as never);
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledExactlyOnceWith(IPC_INVOKE, 'keys:list', { region: 'eu-west-1' });
    expect(answer).toEqual({ ok: true, value: 'answer' });
  });

  it('on() refuses an unknown event name and subscribes to nothing', () => {
    expect(() => kenv.on('not-an-event' as never, () => undefined)).toThrow(/Unknown event/);
    expect(electron.ipcRenderer.on).not.toHaveBeenCalled();
  });

  it('on() delivers only its own event, with the payload alone (no IPC event object)', () => {
    const [mine, other] = EVENT_NAMES;
    const got: unknown[][] = [];
    kenv.on(mine as never, (...args: unknown[]) => void got.push(args));
    emit({ event: other, payload: 'not mine' });
    emit({ event: mine, payload: { n: 1 } });
    expect(got).toEqual([[{ n: 1 }]]);
  });

  it('the function on() returns unsubscribes that listener and no other', () => {
    const [name] = EVENT_NAMES;
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = kenv.on(name as never, (p: unknown) => void a.push(p));
    kenv.on(name as never, (p: unknown) => void b.push(p));
    offA();
    emit({ event: name, payload: 'after' });
    expect(a).toEqual([]);
    expect(b).toEqual(['after']);
    expect(electron.ipcRenderer.removeListener).toHaveBeenCalledTimes(1);
  });
});

describe('the preload: what reaches ipcRenderer', () => {
  it('exposes invoke, on and dropFiles and nothing else', () => {
    expect(Object.keys(kenv).sort()).toEqual(['dropFiles', 'invoke', 'on']);
    for (const value of Object.values(kenv)) expect(typeof value).toBe('function');
  });

  it('invoke sends every channel, even the drop message\'s name, inside the one invoke message', async () => {
    // The page names the contract's channel; it never picks the Electron message. Main validates the channel.
    await kenv.invoke(IPC_DROP as never, ['/etc/passwd'] as never);
    await kenv.invoke('kenv:event' as never, {} as never);
    expect(electron.ipcRenderer.invoke.mock.calls.map((call) => call[0])).toEqual([IPC_INVOKE, IPC_INVOKE]);
    expect(electron.ipcRenderer.invoke.mock.calls.map((call) => call[1])).toEqual([IPC_DROP, 'kenv:event']);
  });

  it('subscribes on the event message only', () => {
    for (const name of EVENT_NAMES) kenv.on(name as never, () => undefined);
    expect(new Set(electron.ipcRenderer.on.mock.calls.map((call) => call[0]))).toEqual(new Set([IPC_EVENT]));
  });
});

describe('the preload: dropped files', () => {
  it('dropFiles takes each path from webUtils.getPathForFile and sends them on the drop message', async () => {
    const a = { name: 'a.txt' };
    const b = { name: 'b.kenv' };
    const answer = await kenv.dropFiles([a, b] as unknown as File[]);
    expect(electron.webUtils.getPathForFile.mock.calls).toEqual([[a], [b]]);
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledExactlyOnceWith(IPC_DROP, ['/dropped/a.txt', '/dropped/b.kenv']);
    expect(answer).toEqual({ ok: true, value: 'answer' });
  });

  it('dropFiles leaves out a File the page built (no path) and anything that is not a File', async () => {
    const pageMade = { name: 'made.txt', dropped: false };
    await kenv.dropFiles([pageMade, '/etc/passwd', 42, null, { name: 'real.txt' }] as unknown as File[]);
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledExactlyOnceWith(IPC_DROP, ['/dropped/real.txt']);
  });

  it('dropFiles given something other than an array sends an empty list, never the value itself', async () => {
    await kenv.dropFiles('/etc/passwd' as unknown as File[]);
    await kenv.dropFiles({ 0: { name: 'x' }, length: 1 } as unknown as File[]);
    expect(electron.webUtils.getPathForFile).not.toHaveBeenCalled();
    expect(electron.ipcRenderer.invoke.mock.calls).toEqual([[IPC_DROP, []], [IPC_DROP, []]]);
  });
});
