import { type BrowserWindow, dialog, shell } from 'electron';
import { KenvError } from '../core/errors.js';
import type { DesktopShell } from '../core/app/services.js';

/** OS dialogs, the file manager and the trash, for the handlers. */
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
    async chooseRecipientFile() {
      const win = window();
      const options = {
        title: 'Choose the recipient file', properties: ['openFile'] as 'openFile'[],
        filters: [{ name: 'Recipient files', extensions: ['recipient'] }, { name: 'All files', extensions: ['*'] }],
      };
      const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
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
    async confirm(question) {
      const win = window();
      // Cancel is the default and the Escape answer, so a stray Enter or a closed dialog never goes ahead.
      const options = {
        type: 'warning' as const, title: question.title, message: question.message, detail: question.detail,
        buttons: ['Cancel', question.confirmLabel], defaultId: 0, cancelId: 0, noLink: true,
      };
      const result = win ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
      return result.response === 1;
    },
    async trashItem(path) {
      try {
        await shell.trashItem(path);
      } catch (error) {
        throw new KenvError('OUTPUT_FAILED', `The system could not move ${path} to the trash, so it was kept: ${error instanceof Error ? error.message : String(error)}.`, { cause: error });
      }
    },
  };
}
