import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPC_DROP, IPC_INVOKE } from '../../../../../shared/ipc.js';
import { Grants } from '../../../../../electron/core/app/grants.js';
import { type InvokeEvent, type IpcMainLike, isAppUrl, registerIpc } from '../../../../../electron/core/app/ipc-wrapper.js';
import { HandlerRegistry } from '../../../../../electron/core/app/registry.js';

function fakeIpcMain() {
  const handlers = new Map<string, (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => { handlers.set(channel, listener); },
    removeHandler: (channel) => { handlers.delete(channel); },
  };
  return {
    ipc, handlers,
    call: (event: InvokeEvent, ...args: unknown[]) => handlers.get(IPC_INVOKE)!(event, ...args),
    drop: (event: InvokeEvent, ...args: unknown[]) => handlers.get(IPC_DROP)!(event, ...args),
  };
}

function setup() {
  const registry = new HandlerRegistry();
  const reached: unknown[] = [];
  registry.handle('files:inspect', async (req) => { reached.push(req); return { path: req.path } as never; });
  const fake = fakeIpcMain();
  const grants = new Grants();
  const unregister = registerIpc(fake.ipc, registry, { isTrustedUrl: isAppUrl, grants });
  return { ...fake, reached, unregister, grants };
}

const top = (url: string) => ({ senderFrame: { url, parent: null } });

describe('registerIpc', () => {
  it('answers a well-formed call from the top frame of the app page', async () => {
    const { call, reached } = setup();
    expect(await call(top('app://kenv/index.html'), 'files:inspect', { path: '/tmp/a.kenv' })).toEqual({ ok: true, value: { path: '/tmp/a.kenv' } });
    expect(reached).toHaveLength(1);
  });

  it.each([
    ['a remote page', 'https://evil.example/index.html'],
    ['a file URL', 'file:///tmp/index.html'],
    ['another app host', 'app://other/index.html'],
    ['credentials in the URL', 'app://x@kenv/index.html'],
    ['an unparsable URL', 'not a url'],
    ['about:blank', 'about:blank'],
  ])('refuses %s with FORBIDDEN_SENDER before parsing', async (_name, url) => {
    const { call, reached } = setup();
    expect(await call(top(url), 'files:inspect', { path: '/tmp/a.kenv' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(reached).toHaveLength(0);
  });

  it('refuses a subframe of the app page', async () => {
    const { call, reached } = setup();
    const event = { senderFrame: { url: 'app://kenv/index.html', parent: { url: 'app://kenv/index.html' } } };
    expect(await call(event, 'files:inspect', { path: '/tmp/a.kenv' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(reached).toHaveLength(0);
  });

  it('refuses a call whose frame is gone', async () => {
    const { call } = setup();
    expect(await call({ senderFrame: null }, 'files:inspect', { path: '/a' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
  });

  it('refuses a malformed payload from a trusted frame with a validation error, never reaching the handler', async () => {
    const { call, reached } = setup();
    const result = await call(top('app://kenv/index.html'), 'files:inspect', { path: ['/etc/passwd'] });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect((result as { error: { message: string } }).error.message).toMatch(/path/);
    expect(reached).toHaveLength(0);
  });

  it("grants the preload's dropped paths only on the drop message from the app's top frame", async () => {
    const { drop, call, grants } = setup();
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'kenv-ipc-')));
    const file = join(dir, 'dropped.txt');
    await writeFile(file, 'x');
    expect(await drop(top('https://evil.example/'), [file])).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(await drop({ senderFrame: { url: 'app://kenv/index.html', parent: {} } }, [file])).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    // The page's own channel cannot carry a drop: there is no such contract channel.
    expect(await call(top('app://kenv/index.html'), 'kenv:drop', [file])).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await grants.allows(file, 'read')).toBe(false);
    expect(await drop(top('app://kenv/index.html'), ['', 'relative.txt', file])).toEqual({ ok: true, value: [file] });
    expect(await grants.allows(file, 'read')).toBe(true);
    expect(await drop(top('app://kenv/index.html'), 'not a list')).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  });

  it('unregisters', () => {
    const { handlers, unregister } = setup();
    unregister();
    expect(handlers.size).toBe(0);
  });
});
