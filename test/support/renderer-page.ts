import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import type { Grants } from '../../electron/core/app/grants.js';
import type { HandlerRegistry } from '../../electron/core/app/registry.js';
import { keepPageCoverage } from './browser-coverage.js';
import { bridgeScript, type SocketSink, startRendererBridge } from './renderer-bridge.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Builds the renderer with Vite into `outDir`. An end-to-end file that may run beside another builds into a folder
 * of its own: a build empties its folder first.
 */
export async function buildRenderer(outDir: string): Promise<void> {
  await build({ configFile: join(ROOT, 'vite.config.ts'), root: join(ROOT, 'renderer'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
}

/** Debian's Chromium, headless, with a fresh profile and nothing that reaches the network by itself. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface RendererPage {
  page: Page;
  context: BrowserContext;
  /** The page's uncaught errors, and with `consoleErrors` its console errors too. */
  errors: string[];
}

/**
 * Opens the built renderer (`root`) in a fresh browser context, wired to `registry` through the WebSocket bridge:
 * the page's `window.kenv` reaches the same handlers the Electron shell registers, drops map to files in `drops`.
 * The bridge, the context and the page's coverage are handed to `cleanups` (run them in reverse in afterAll).
 */
export async function openRendererPage(opts: {
  browser: Browser;
  root: string;
  registry: HandlerRegistry;
  sink: SocketSink;
  grants: Grants;
  drops: string;
  cleanups: (() => Promise<unknown>)[];
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Let the page read and write the clipboard (the "Copy details" buttons). */
  clipboard?: boolean;
  consoleErrors?: boolean;
}): Promise<RendererPage> {
  const bridge = await startRendererBridge({ root: opts.root, registry: opts.registry, sink: opts.sink, grants: opts.grants });
  opts.cleanups.push(() => bridge.close());
  const context = await opts.browser.newContext({ viewport: opts.viewport ?? { width: 1180, height: 780 }, ...(opts.colorScheme ? { colorScheme: opts.colorScheme } : {}) });
  if (opts.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  opts.cleanups.push(() => context.close());
  await context.addInitScript({ content: bridgeScript(opts.drops) });
  const page = await context.newPage();
  // Saved before the context closes (cleanups run in reverse).
  opts.cleanups.push(await keepPageCoverage(page, opts.root));
  const errors: string[] = [];
  if (opts.consoleErrors) page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(bridge.url);
  return { page, context, errors };
}


/**
 * Drops files on `target` the way a file manager does: dragenter, dragover and drop with a DataTransfer of Files.
 * Only their names matter: the bridge maps each to `<drops>/<name>`, which the test writes first.
 */
export async function dropFiles(page: Page, target: string, names: string[]): Promise<void> {
  // A string expression: these files are type-checked for Node, where DataTransfer and File do not exist.
  const dataTransfer = await page.evaluateHandle(`(() => {
    const dt = new DataTransfer();
    for (const name of ${JSON.stringify(names)}) dt.items.add(new File([new Uint8Array([120])], name));
    return dt;
  })()`);
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent(target, type, { dataTransfer });
}
