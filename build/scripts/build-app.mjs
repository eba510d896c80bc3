// Builds everything the Electron app loads: tsc output (main process and core), the renderer (Vite), and the
// preload as one CommonJS file (a sandboxed preload can require only 'electron').
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as vite } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], { cwd: root, stdio: 'inherit' });
await vite({ configFile: join(root, 'vite.config.ts'), root: join(root, 'renderer'), logLevel: 'warn' });
await esbuild({
  entryPoints: [join(root, 'electron', 'preload', 'index.ts')],
  outfile: join(root, 'out', 'electron-app', 'preload.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['electron'],
  sourcemap: 'inline',
  logLevel: 'warning',
});
console.log('Built out/ (main process), renderer-dist/ (renderer) and out/electron-app/preload.cjs.');
