// Where the Electron binary is, or undefined when it is not on this machine.
//
// package.json denies electron's postinstall (`allowScripts`), so `npm install` never fails on a machine that cannot
// reach Electron's download server; `npm start` downloads the binary on first use instead (ensureElectronBinary).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export function electronBinary() {
  let path;
  try {
    // The electron package's index.js answers the path its postinstall recorded (or ELECTRON_OVERRIDE_DIST_PATH's).
    path = createRequire(import.meta.url)('electron');
  } catch {
    return undefined;
  }
  return typeof path === 'string' && existsSync(path) ? path : undefined;
}

/**
 * The binary, downloading it first with electron's own installer when it is missing (unless
 * ELECTRON_SKIP_BINARY_DOWNLOAD says not to). Undefined when it is still missing; the installer's output is kept
 * out of the terminal, since NO_ELECTRON says what matters in one paragraph.
 */
export function ensureElectronBinary() {
  const found = electronBinary();
  if (found || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD || process.env.ELECTRON_OVERRIDE_DIST_PATH) return found;
  let installer;
  try {
    installer = createRequire(import.meta.url).resolve('electron/install.js');
  } catch {
    return undefined;
  }
  console.error('Downloading the Electron binary (first start)…');
  spawnSync(process.execPath, [installer], { stdio: 'ignore', timeout: 10 * 60_000 });
  return electronBinary();
}

// One paragraph: what is missing, how to get it, and what works without it.
export const NO_ELECTRON =
  "Kenv's desktop app needs the Electron binary, and it is not on this machine: it could not be downloaded " +
  "(Electron's installer fetches it from GitHub, outside the npm registry) or ELECTRON_SKIP_BINARY_DOWNLOAD said not " +
  'to. To get it, run `node node_modules/electron/install.js` (or `npm start` again) where that download is allowed, ' +
  'or set ELECTRON_OVERRIDE_DIST_PATH to a folder that holds an Electron build. Everything else works ' +
  'without it: the command line (`npm run build && npx kenv --help`), the demo KMS (`npx kenv local-kms`) and ' +
  '`npm test`.';
