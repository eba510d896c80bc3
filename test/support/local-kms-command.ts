// Runs `kenv local-kms` the way the CLI will, for tests that start it as a process and stop it with a signal.
// Usage: node --import tsx test/support/local-kms-command.ts --state DIR [--port N] [--host ADDR] [--allow-remote]
//   [--throttle-first N] [--deny OP=KEY]
import { runLocalKmsCommand } from '../../electron/core/local-kms/command.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const deny = args.flatMap((a, i) => (a === '--deny' && args[i + 1] !== undefined ? [args[i + 1]!] : []));

await runLocalKmsCommand(
  {
    state: flag('--state') ?? '',
    ...(flag('--port') !== undefined ? { port: flag('--port')! } : {}),
    ...(flag('--host') !== undefined ? { host: flag('--host')! } : {}),
    ...(args.includes('--allow-remote') ? { allowRemote: true } : {}),
    ...(flag('--throttle-first') !== undefined ? { throttleFirst: flag('--throttle-first')! } : {}),
    deny,
  },
  (line) => console.log(line),
);
