import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../../electron/cli/program.js';

/** `kenv --help` and every command's `--help`, in the order commander lists them. */
function everyHelp(command: Command, path = 'kenv'): string {
  // A fixed width: commander otherwise wraps to the terminal's, and a test run may have one.
  command.configureHelp({ helpWidth: 120 });
  const own = `## ${path} --help\n${command.helpInformation()}\n`;
  return own + command.commands.map((sub) => everyHelp(sub, `${path} ${sub.name()}`)).join('');
}

describe('kenv --help', () => {
  // The reference was written before the key options of program.ts and proof-commands.ts became one addKeyOptions():
  // a help change is then a choice, made with `npx vitest run -u test/unit/electron/cli/help.test.ts`.
  it('every command lists the same options, in the same order, with the same words', async () => {
    const io = { stdin: process.stdin, stdout: process.stdout, out: () => {}, err: () => {} };
    const program = buildProgram(io, () => {}, () => {});
    await expect(everyHelp(program)).toMatchFileSnapshot('./__snapshots__/help.txt');
  });
});
