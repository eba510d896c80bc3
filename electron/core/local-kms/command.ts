import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { KenvError } from '../errors.js';
import { type DenyRule, LOCAL_KMS_WARNING, startLocalKms } from './server.js';

/** The options of `kenv local-kms`, as commander hands them over (strings) or as a program passes them. */
export interface LocalKmsCommandOptions {
  /** `--port N` (0 picks a free port). */
  port?: string | number;
  /** `--state DIR`, the folder holding the keys. */
  state: string;
  /** `--host ADDR`, 127.0.0.1 by default. */
  host?: string;
  /** `--allow-remote`: lets `--host` name an address other hosts can reach. */
  allowRemote?: boolean;
  /** `--throttle-first N`. */
  throttleFirst?: string | number;
  /** `--deny OP=KEY`, repeatable. */
  deny?: string | string[];
  /** `--region R`, the Region the demo key is created in. */
  region?: string;
}

/**
 * Runs `kenv local-kms`: starts the server, prints where it listens and its keys, and serves until SIGINT or SIGTERM.
 *
 * Resolves once the server has closed after the signal, so the process can exit by itself. Invalid options throw
 * KenvError INVALID_ARGUMENT before anything listens, and so does a `host` that is not a loopback address unless
 * `allowRemote` is set: the server keeps key material in the clear and answers anyone who can reach it.
 */
export async function runLocalKmsCommand(opts: LocalKmsCommandOptions, out: (line: string) => void): Promise<void> {
  if (typeof opts.state !== 'string' || opts.state === '') {
    throw new KenvError('INVALID_ARGUMENT', 'Name the folder for the keys with --state DIR.');
  }
  const stateDir = resolve(opts.state);
  const port = wholeNumber(opts.port ?? 0, '--port', 65535);
  const throttleFirst = wholeNumber(opts.throttleFirst ?? 0, '--throttle-first', Number.MAX_SAFE_INTEGER);
  const deny = (Array.isArray(opts.deny) ? opts.deny : opts.deny === undefined ? [] : [opts.deny]).map(parseDenyRule);
  if (opts.host !== undefined && !isLoopback(opts.host) && opts.allowRemote !== true) {
    throw new KenvError(
      'INVALID_ARGUMENT',
      `--host ${opts.host} is not a loopback address, so other machines could reach this KMS, which keeps its keys in the clear. Use 127.0.0.1 or ::1, or add --allow-remote if you really mean it.`,
    );
  }

  const kms = await startLocalKms({
    stateDir,
    port,
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    throttleFirst,
    deny,
  });
  const stopped = new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  out(`listening on ${kms.url}`);
  out(`WARNING: ${LOCAL_KMS_WARNING} State folder: ${stateDir}`);
  for (const key of kms.keys()) {
    const aliases = key.aliases.length > 0 ? ` (${key.aliases.join(', ')})` : '';
    out(`key ${key.arn}${aliases}${key.keyState === 'Enabled' ? '' : ` [${key.keyState}]`}`);
  }
  if (throttleFirst > 0) out(`throttling the first ${throttleFirst} requests`);
  for (const rule of deny) out(`denying ${rule.operation === '*' ? 'every operation' : `kms:${rule.operation}`} on ${rule.key}`);
  out(`Use it with AWS_ENDPOINT_URL_KMS=${kms.url} AWS_ENDPOINT_URL_STS=${kms.url} (it answers STS GetCallerIdentity too). Stop with Ctrl+C.`);

  await stopped;
  await kms.close();
  out('stopped');
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, their IPv4-mapped forms) or `localhost`; 0.0.0.0 and :: are every address. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 6 ? 'ipv6' : 'ipv4');
}

/** Parses `--deny OP=KEY` (`Decrypt=alias/x`, `*=*`). */
export function parseDenyRule(text: string): DenyRule {
  const at = text.indexOf('=');
  const operation = text.slice(0, at).trim();
  const key = text.slice(at + 1).trim();
  if (at < 0 || operation === '' || key === '') {
    throw new KenvError('INVALID_ARGUMENT', `--deny takes OP=KEY, such as Decrypt=alias/kenv-demo or *=*, not "${text}".`);
  }
  return { operation, key };
}

function wholeNumber(value: string | number, flag: string, max: number): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new KenvError('INVALID_ARGUMENT', `${flag} takes a whole number from 0 to ${max}, not "${value}".`);
  }
  return n;
}
