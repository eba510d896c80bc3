import { describe, expect, it } from 'vitest';
import { filesFromArgv, toPath } from '../../../../../electron/core/app/open-requests.js';

describe('toPath', () => {
  it('accepts paths and file URLs, ignores flags and other URLs', () => {
    expect(toPath('/a/b.kenv')).toBe('/a/b.kenv');
    expect(toPath('b.kenv', '/home/ada')).toBe('/home/ada/b.kenv');
    expect(toPath('file:///a/b%20c.kenv')).toBe('/a/b c.kenv');
    expect(toPath('--no-sandbox')).toBeUndefined();
    expect(toPath('https://example.com/x.kenv')).toBeUndefined();
    expect(toPath('')).toBeUndefined();
  });
});

describe('filesFromArgv', () => {
  it('takes .kenv files from a packaged launch', () => {
    expect(filesFromArgv(['/opt/Kenv/kenv', '--enable-features=X', '/home/ada/q3.kenv', 'notes.txt'], { packaged: true, cwd: '/' })).toEqual(['/home/ada/q3.kenv']);
  });

  it('skips the app folder in development', () => {
    expect(filesFromArgv(['/usr/bin/electron', '.', 'file:///tmp/x.kenv'], { packaged: false, cwd: '/repo' })).toEqual(['/tmp/x.kenv']);
  });
});
