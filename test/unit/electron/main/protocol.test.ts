import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const handlers = vi.hoisted(() => new Map<string, (req: { url: string }) => Promise<Response>>());
vi.mock('electron', () => {
  const electron = {
    protocol: { handle: (scheme: string, fn: (req: { url: string }) => Promise<Response>) => handlers.set(scheme, fn), registerSchemesAsPrivileged: () => undefined },
    BrowserWindow: class {},
    shell: {},
  };
  return { ...electron, default: electron };
});

const { serveRenderer } = await import('../../../../electron/main/protocol.js');

function rendererFolder(): string {
  const parent = mkdtempSync(join(tmpdir(), 'kenv-protocol-'));
  const root = join(parent, 'renderer-dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Kenv</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(parent, 'secret.txt'), 'outside');
  return root;
}

describe('serveRenderer', () => {
  it('serves the renderer folder with the strict CSP and the right types', async () => {
    serveRenderer(rendererFolder());
    const handle = handlers.get('app')!;
    const page = await handle({ url: 'app://kenv/index.html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'none'");
    expect(csp).not.toContain('unsafe');
    expect((await handle({ url: 'app://kenv/' })).status).toBe(200);
    expect((await handle({ url: 'app://kenv/assets/app.js' })).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('refuses anything outside the folder or on another host', async () => {
    serveRenderer(rendererFolder());
    const handle = handlers.get('app')!;
    for (const url of ['app://kenv/../secret.txt', 'app://kenv/..%2Fsecret.txt', 'app://kenv/%2e%2e/secret.txt', 'app://evil/index.html', 'app://kenv/missing.js']) {
      expect((await handle({ url })).status, url).toBe(404);
    }
  });
});
