import { type BrowserWindow, dialog, shell } from 'electron';
import { KenvError } from '../core/errors.js';
import type { DesktopShell } from '../core/app/services.js';

/** OS dialogs and the file manager, for the handlers. */
export function electronShell(window: () => BrowserWindow | undefined): DesktopShell {
  return {
    async showInFolder(path) {
      shell.showItemInFolder(path);
    },
    async openPath(path) {
      const problem = await shell.openPath(path);
      if (problem) throw new KenvError('NOT_ALLOWED', `The system could not open ${path}: ${problem}. Open it from the file manager instead.`);
    },
    async chooseFiles() {
      const win = window();
      const options = { title: 'Choose files to encrypt or decrypt', properties: ['openFile', 'multiSelections'] as ('openFile' | 'multiSelections')[] };
      const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return result.canceled ? [] : result.filePaths;
    },
    async chooseSaveFile(title, defaultName) {
      const win = window();
      const options = { title, defaultPath: defaultName };
      const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    },
    async chooseFolder() {
      const win = window();
      const options = { title: 'Choose a folder', properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] };
      const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  };
}
