// Where the Electron binary is, or undefined when `npm install` skipped its download (ELECTRON_SKIP_BINARY_DOWNLOAD).
import { createRequire } from 'node:module';

export function electronBinary() {
  try {
    return createRequire(import.meta.url)('electron');
  } catch {
    return undefined;
  }
}

export const NO_ELECTRON =
  'The Electron binary is not installed (npm skipped its download). Reinstall without ELECTRON_SKIP_BINARY_DOWNLOAD, ' +
  'or set ELECTRON_OVERRIDE_DIST_PATH to a folder holding an Electron build.';
