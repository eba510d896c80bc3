// The preload against a mocked `electron`: what the page gets as window.kenv, and what reaches ipcRenderer.
// (When the grants branch lands, `pathForFile` becomes `dropFiles(File[])` sending the paths on their own IPC message:
// only the last describe changes.)
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KenvApi } from '../../../../shared/ipc.js';
import { EVENT_NAMES, IPC_EVENT, IPC_INVOKE } from '../../../../shared/ipc-names.js';

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
    webUtils: { getPathForFile: vi.fn((file: { name: string }) => `/dropped/${file.name}`) },
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

describe('the preload: file paths', () => {
  it('pathForFile asks webUtils.getPathForFile, inside the preload', () => {
    // The grants branch replaces pathForFile with dropFiles(File[]): this test then becomes one for dropFiles.
    const api = kenv as unknown as { pathForFile: (f: unknown) => string };
    expect(api.pathForFile({ name: 'a.txt' })).toBe('/dropped/a.txt');
    expect(electron.webUtils.getPathForFile).toHaveBeenCalledExactlyOnceWith({ name: 'a.txt' });
  });
});
