import { type CommandIo, fail } from '../aws/command.js';
import { type KeyEntry, listKeys } from './catalogue.js';
import { defaultKmsClientFactory } from './client.js';

/**
 * `kenv keys [--all] [--json] [--profile P] [--region R]`: the KMS keys Kenv can use, and whether you may encrypt
 * (GenerateDataKey) and decrypt with each.
 */
export async function runKeysCommand(opts: { all?: boolean; json?: boolean; profile?: string; region?: string }, io: CommandIo): Promise<number> {
  try {
    const clients = defaultKmsClientFactory({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
    const listed = await listKeys(clients, { all: !!opts.all, rsa: true, ...(opts.region ? { region: opts.region } : {}) });
    const keys = listed.filter((k) => (k.keySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT');
    const recipients = listed.filter((k) => !keys.includes(k));
    if (opts.json) {
      io.out(JSON.stringify(listed, null, 2));
      return 0;
    }
    if (keys.length === 0) {
      io.err(opts.all
        ? 'No symmetric encryption keys are visible to you in this Region.'
        : 'No enabled symmetric encryption keys are visible to you in this Region (kenv keys --all shows disabled and pending-deletion keys).');
      printRecipients(recipients, io);
      return 0;
    }
    const rows = keys.map((k) => [
      k.aliases[0] ?? '-', k.keyId, k.state, k.rotationEnabled === undefined ? '?' : k.rotationEnabled ? 'yes' : 'no',
      k.multiRegion ? (k.multiRegionRole ?? 'yes').toLowerCase() : 'no', yesNo(k.canGenerate), yesNo(k.canDecrypt), k.description,
    ]);
    const header = ['ALIAS', 'KEY ID', 'STATE', 'ROTATION', 'MULTI-REGION', 'ENCRYPT', 'DECRYPT', 'DESCRIPTION'];
    const all = [header, ...rows];
    const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
    for (const r of all) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
    for (const k of keys) for (const extra of k.aliases.slice(1)) io.out(`  ${extra} → ${k.keyId}`);
    for (const k of keys.filter((key) => key.multiRegion && key.primaryRegion)) {
      io.out(`  ${k.aliases[0] ?? k.keyId}: primary in ${k.primaryRegion}; replicas in ${k.replicaRegions?.length ? k.replicaRegions.join(', ') : '(none)'}`);
    }
    printRecipients(recipients, io);
    for (const k of keys.filter(hasNotes)) for (const note of k.notes) io.err(`${k.aliases[0] ?? k.keyId}: ${note}`);
    return 0;
  } catch (e) {
    return fail(e, io);
  }
}

function yesNo(v: boolean | undefined): string {
  return v === undefined ? '?' : v ? 'yes' : 'no';
}

function hasNotes(k: KeyEntry): boolean {
  return k.notes.length > 0;
}

/** RSA keys, listed apart: nobody encrypts files with them directly, people without AWS encrypt for them. */
function printRecipients(recipients: KeyEntry[], io: CommandIo): void {
  if (recipients.length === 0) return;
  io.out('For people without AWS (RSA keys; export a recipient file with kenv public-key KEY --out FILE):');
  for (const k of recipients) io.out(`  ${k.aliases[0] ?? k.keyId}  ${k.keySpec ?? ''}  ${k.arn}`);
}
