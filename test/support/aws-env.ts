import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp HOME with its own ~/.aws, and an environment with no AWS settings but the ones a test sets. */
export interface TempAws {
  home: string;
  configFile: string;
  credentialsFile: string;
  writeConfig(text: string): void;
  writeCredentials(text: string): void;
  /** Sets (or with undefined, deletes) an environment variable until restore(). */
  setEnv(name: string, value: string | undefined): void;
  restore(): void;
}

/**
 * Points HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at a fresh temp folder and clears every other AWS_*
 * variable, so a test sees only what it writes. Instance metadata is off so "no credentials" fails fast.
 */
export function useTempAws(): TempAws {
  const saved = { ...process.env };
  const home = mkdtempSync(join(tmpdir(), 'kenv-aws-'));
  mkdirSync(join(home, '.aws'), { recursive: true });
  const configFile = join(home, '.aws', 'config');
  const credentialsFile = join(home, '.aws', 'credentials');
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
  Object.assign(process.env, {
    HOME: home,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  writeFileSync(configFile, '');
  writeFileSync(credentialsFile, '');
  return {
    home,
    configFile,
    credentialsFile,
    writeConfig: (text) => writeFileSync(configFile, text),
    writeCredentials: (text) => writeFileSync(credentialsFile, text),
    setEnv(name, value) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    },
    restore() {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Collects what a command prints. */
export function captureIo(): { out: string[]; err: string[]; io: { out(line: string): void; err(line: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}
