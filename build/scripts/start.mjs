// `npm start` / `npm run demo`: builds, then launches Electron on this folder.
// With --demo it first starts the local KMS server (state in ~/.kenv-demo) with its demo key alias/kenv-demo and
// points the app at it with throwaway credentials, so Kenv can be tried without an AWS account.
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureElectronBinary, NO_ELECTRON } from './electron-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const demo = process.argv.includes('--demo');

// Before building: a missing binary is said at once, in one paragraph, not after a build or as a spawn stack trace.
const binary = ensureElectronBinary();
if (!binary) {
  console.error(NO_ELECTRON);
  process.exit(1);
}
await import('./build-app.mjs');

const env = { ...process.env };
let kms;
if (demo) {
  const { startLocalKms, LOCAL_KMS_WARNING } = await import(pathToFileURL(join(root, 'out', 'electron', 'core', 'local-kms', 'server.js')).href);
  kms = await startLocalKms({ stateDir: join(homedir(), '.kenv-demo'), region: 'us-east-1' });
  console.log(`Local KMS at ${kms.url}. ${LOCAL_KMS_WARNING}`);
  Object.assign(env, {
    // The local KMS answers STS GetCallerIdentity too, so the identity panel shows the demo identity.
    AWS_ENDPOINT_URL_KMS: kms.url, AWS_ENDPOINT_URL_STS: kms.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIAKENVDEMO00000000',
    AWS_SECRET_ACCESS_KEY: 'kenv-demo-not-a-secret', AWS_PROFILE: '',
  });
}

const child = spawn(binary, [root, ...process.argv.slice(2).filter((a) => a !== '--demo')], { stdio: 'inherit', env });
child.on('exit', async (code) => {
  await kms?.close();
  process.exit(code ?? 0);
});
