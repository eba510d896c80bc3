// `npm run dist`: builds, then packages installers with electron-builder (build/electron-builder.yml).
// electron-builder downloads Electron and its packaging tools, so this needs the network; CI here cannot run it.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
await import('./build-app.mjs');
const cli = join(root, 'node_modules', 'electron-builder', 'cli.js');
const result = spawnSync(process.execPath, [cli, '--config', join(root, 'build', 'electron-builder.yml'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
