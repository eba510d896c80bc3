import { SYNC_DIR, TRASH_DIR } from './index-store.js';

/** S3's longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** The longest file or folder name most file systems take (ext4, APFS, NTFS count 255 bytes or units). */
export const MAX_NAME_BYTES = 255;

// Control characters, and the characters Windows refuses in a name (`\` and `:` are also path syntax there:
// a separator, a drive letter, an NTFS stream).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\:*?"<>|]/;
// Device names Windows opens whatever the extension: `con.kenv` is the console, not a file.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * The one rule for names sync carries, both ways: why `path` (vault-relative, '/'-separated) cannot be both a
 * local file in every vault that shares the prefix and the key `prefix + path`; undefined when it can.
 *
 * Upload and listing both ask this, so a local name is uploaded only if the listing on every machine would
 * accept its key back, and a key is written locally only if the scan would accept the file: a name can never
 * be uploaded by one sync and then look deleted to the next. Keys come from anyone who can write to the
 * bucket, so this is also what keeps them inside the vault (`..`, absolute paths, drive letters, Kenv's folders).
 */
export function vaultNameProblem(path: string, prefix = ''): string | undefined {
  if (!path) return 'the name is empty';
  if (Buffer.byteLength(prefix + path) > MAX_KEY_BYTES) return `its key is longer than the ${MAX_KEY_BYTES} bytes S3 allows`;
  if (path.startsWith('/')) return 'it is an absolute path';
  const segments = path.split('/');
  if (isInternalFolder(segments[0] ?? '')) return `${segments[0]} is Kenv's own folder`;
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') return `it has an empty, "." or ".." part`;
    if (FORBIDDEN_CHARS.test(s)) return 'it holds a control character or one of \\ : * ? " < > |';
    if (Buffer.byteLength(s) > MAX_NAME_BYTES) return `a part is longer than ${MAX_NAME_BYTES} bytes`;
    if (s.endsWith('.') || s.endsWith(' ')) return 'a part ends with a dot or a space, which Windows drops';
    if (WINDOWS_DEVICE.test(s.trimEnd())) return `${s} is a device name on Windows`;
  }
  return undefined;
}

/** Is `path` a name sync may carry both ways (see `vaultNameProblem`)? */
export function isSafeVaultPath(path: string, prefix = ''): boolean {
  return vaultNameProblem(path, prefix) === undefined;
}

/**
 * The form under which two names are the same file on a case-insensitive, normalization-insensitive file system
 * (macOS, Windows): `Report.kenv` and `report.kenv`, or `é` composed and decomposed.
 */
export function foldName(path: string): string {
  return path.normalize('NFC').toLowerCase();
}

/** `.kenv-sync` or `.kenv-trash`, in any case or normalization (the same folder on macOS and Windows). */
export function isInternalFolder(segment: string): boolean {
  const f = foldName(segment);
  return f === SYNC_DIR || f === TRASH_DIR;
}
