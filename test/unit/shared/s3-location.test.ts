// S3 locations as a person types them into the vault panel (and as vault:bind receives them): each of S3's bucket
// naming rules, and the prefix rules, refused with its own sentence; valid locations pass.
import { describe, expect, it } from 'vitest';
import { s3LocationProblem } from '../../../shared/s3-location.js';

describe('s3LocationProblem', () => {
  it.each([
    ['s3://team-vault', null],
    ['  s3://team-vault/finance/2026  ', null],
    ['s3://a.b-c/x', null],
    [`s3://${'a'.repeat(63)}/p`, null],
  ])('accepts %j', (text, problem) => {
    expect(s3LocationProblem(text)).toBe(problem);
  });

  it.each([
    ['', 'Write the S3 location as s3://bucket/prefix.'],
    ['   ', 'Write the S3 location as s3://bucket/prefix.'],
    ['S3://team-vault', 'Write s3:// in lower case.'],
    ['https://team-vault.s3.amazonaws.com/x', 'Write the location as s3://bucket/prefix, not as a web address.'],
    ['team-vault/x', 'Start with s3:// (for example s3://team-vault/x).'],
    ['//team-vault', 'Start with s3:// (for example s3://team-vault).'],
    ['/', 'Start with s3:// (for example s3://bucket/prefix).'],
    ['s3://', 'Name the bucket after s3://.'],
    ['s3:///prefix', 'Name the bucket after s3://.'],
    ['s3://ab', 'A bucket name is 3 to 63 characters long; "ab" has 2.'],
    [`s3://${'a'.repeat(64)}`, `A bucket name is 3 to 63 characters long; "${'a'.repeat(64)}" has 64.`],
    ['s3://Team-Vault', 'Bucket names are lower case: team-vault.'],
    ['s3://team vault', 'A bucket name holds only lower-case letters, digits, dots and hyphens; "a space" is not allowed.'],
    ['s3://team_vault', 'A bucket name holds only lower-case letters, digits, dots and hyphens; "_" is not allowed.'],
    ['s3://-team', 'A bucket name starts and ends with a letter or a digit.'],
    ['s3://team.', 'A bucket name starts and ends with a letter or a digit.'],
    ['s3://team..vault', 'A bucket name has no two dots in a row.'],
    ['s3://192.168.1.10', 'A bucket name cannot be an IP address.'],
    ['s3://xn--vault', 'Bucket names starting with xn-- are reserved by S3.'],
    ['s3://sthree-vault', 'Bucket names starting with sthree- are reserved by S3.'],
    ['s3://vault-s3alias', 'Bucket names ending in -s3alias are reserved by S3.'],
    ['s3://vault--x-s3', 'Bucket names ending in --x-s3 are reserved by S3.'],
    ['s3://vault.mrap', 'Bucket names ending in .mrap are reserved by S3.'],
    ['s3://vault/a\0b', 'The prefix may not contain a NUL character.'],
    ['s3://vault/a/../b', 'The prefix may not contain . or .. as a folder name.'],
    ['s3://vault/./b', 'The prefix may not contain . or .. as a folder name.'],
    ['s3://vault/a//b', 'The prefix may not contain two slashes in a row.'],
    [`s3://vault/${'é'.repeat(451)}`, "The prefix is too long: keep it under 900 bytes, so file names fit in S3's 1,024-byte keys."],
  ])('refuses %j: %s', (text, problem) => {
    expect(s3LocationProblem(text)).toBe(problem);
  });

  it('a prefix of exactly 900 bytes is still accepted', () => {
    expect(s3LocationProblem(`s3://vault/${'é'.repeat(450)}`)).toBeNull();
  });
});
