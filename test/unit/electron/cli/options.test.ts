import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatBytes, parseBytes, parseContext, regionName, sizeInRange, wholeNumberInRange } from '../../../../electron/cli/options.js';

describe('parseBytes', () => {
  it.each([
    ['0', 0],
    ['65536', 65536],
    ['512B', 512],
    ['1K', 1024],
    ['64KiB', 65536],
    ['4m', 4 * 1024 ** 2],
    ['1MiB', 1024 ** 2],
    ['1GiB', 1024 ** 3],
    ['2 g', 2 * 1024 ** 3],
  ])('%s is %i bytes', (text, bytes) => expect(parseBytes(text)).toBe(bytes));

  it.each(['', 'huge', '1.5MiB', '-1', '1KB', '1kB', '1MB', '1TiB', '0x10'])('refuses %j', (text) => {
    expect(() => parseBytes(text)).toThrow(InvalidArgumentError);
  });
});

describe('sizeInRange and wholeNumberInRange', () => {
  it('names the range when a size is outside it', () => {
    const frame = sizeInRange(1, 64 * 1024 ** 2);
    expect(frame('64MiB')).toBe(64 * 1024 ** 2);
    expect(() => frame('0')).toThrow('out of range: give 1 byte to 64 MiB');
    expect(() => frame('1GiB')).toThrow('out of range: give 1 byte to 64 MiB');
  });

  it('takes whole numbers only, within the range', () => {
    const n = wholeNumberInRange(1, 64);
    expect(n('64')).toBe(64);
    for (const bad of ['0', '65', '1.5', '-1', 'x', '']) expect(() => n(bad)).toThrow('a whole number from 1 to 64');
  });

  it('formats sizes in whole units', () => {
    expect([1, 512, 1024, 1536, 64 * 1024 ** 2, 1024 ** 3].map(formatBytes)).toEqual(['1 byte', '512 bytes', '1 KiB', '1536 bytes', '64 MiB', '1 GiB']);
  });
});

describe('parseContext', () => {
  it('refuses reserved keys only for a context written into a message', () => {
    expect(parseContext(['aws-crypto-public-key=x'])).toEqual({ 'aws-crypto-public-key': 'x' });
    expect(() => parseContext(['aws-crypto-public-key=x'], { forEncrypt: true })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('refuses a context larger than the format holds, before any encryption', () => {
    expect(() => parseContext([`k=${'v'.repeat(70_000)}`], { forEncrypt: true })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('regionName', () => {
  it('takes Region names and refuses what the SDK would not put in a host name', () => {
    expect(regionName('eu-west-1')).toBe('eu-west-1');
    for (const bad of ['not a region', 'bad/region', '-x', '']) expect(() => regionName(bad)).toThrow(InvalidArgumentError);
  });
});
