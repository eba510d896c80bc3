import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../../../../shared/ipc.js';
import { HandlerRegistry } from '../../../../../electron/core/app/registry.js';
import { KenvError } from '../../../../../electron/core/errors.js';
import { makeApp } from '../../../../support/app-services.js';

describe('HandlerRegistry', () => {
  it('registerHandlers covers every channel of the contract', async () => {
    const { registry } = await makeApp();
    expect(registry.channels().sort()).toEqual([...CHANNELS].sort());
  });

  it('refuses a malformed payload with INVALID_REQUEST and never calls the handler', async () => {
    const registry = new HandlerRegistry();
    let called = 0;
    registry.handle('files:inspect', async () => { called++; throw new Error('unreachable'); });
    for (const payload of [undefined, null, 'x', {}, { path: 7 }, { path: '' }, { path: 'a\0b' }, { path: '/a', extra: 1 }]) {
      const result = await registry.invoke('files:inspect', payload);
      expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    }
    expect(called).toBe(0);
  });

  it('refuses an unknown channel', async () => {
    const registry = new HandlerRegistry();
    expect(await registry.invoke('fs:readFile', { path: '/etc/passwd' })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await registry.invoke('__proto__', {})).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  });

  it('turns a thrown KenvError into its code and sentence', async () => {
    const registry = new HandlerRegistry();
    registry.handle('keys:list', async () => { throw new KenvError('KMS_ACCESS_DENIED', 'KMS denied ListKeys. Ask your administrator for kms:ListKeys.'); });
    expect(await registry.invoke('keys:list', {})).toEqual({ ok: false, error: { code: 'KMS_ACCESS_DENIED', message: 'KMS denied ListKeys. Ask your administrator for kms:ListKeys.' } });
  });

  it('passes the parsed request to the handler and wraps the value', async () => {
    const registry = new HandlerRegistry();
    registry.handle('jobs:retry', async ({ jobId }) => ({ id: jobId }) as never);
    expect(await registry.invoke('jobs:retry', { jobId: 'j1' })).toEqual({ ok: true, value: { id: 'j1' } });
  });

  it('refuses to register a channel twice', () => {
    const registry = new HandlerRegistry();
    registry.handle('keys:list', async () => []);
    expect(() => registry.handle('keys:list', async () => [])).toThrow(/registered already/);
  });
});
