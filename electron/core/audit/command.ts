import type { CommandIo } from '../aws/command.js';
import { KenvError, toErrorInfo } from '../errors.js';
import { inspectFile } from '../files.js';
import { regionOfKey } from '../kms/key-ids.js';
import { FILE_ID_CONTEXT_KEY, fileIdOf } from './file-id.js';

/** Ready-to-run lookups of who decrypted a file, by its audit id. */
export interface AuditLookups {
  /** One `aws cloudtrail lookup-events` command per Region the file's KMS keys are in. */
  cloudTrail: string[];
  /** A CloudTrail Lake query (replace the event data store id). */
  cloudTrailLake: string;
  /** An Athena query over a CloudTrail logs table (replace the table name). */
  athena: string;
}

export interface AuditReport {
  file: string;
  fileId: string;
  messageId: string;
  keys: string[];
  lookups: AuditLookups;
}

/** Reads a file's audit id from its header (no KMS call) and builds the CloudTrail lookups for it. */
export async function auditFile(path: string): Promise<AuditReport> {
  const info = await inspectFile(path);
  const fileId = fileIdOf(info.encryptionContext);
  if (fileId === undefined) {
    throw new KenvError(
      'INVALID_ARGUMENT',
      `${path} has no ${FILE_ID_CONTEXT_KEY} audit id: it was encrypted with --no-file-id, by an older Kenv or by another tool. ` +
        'CloudTrail still logs each KMS Decrypt of it with its encryption context; re-encrypt it with Kenv to give it an id.',
    );
  }
  const keys = info.encryptedDataKeys.flatMap((k) => (k.keyArn ? [k.keyArn] : []));
  return { file: path, fileId, messageId: info.messageId, keys, lookups: auditLookups(fileId, keys) };
}

/** The lookups for one audit id. Only hex ids are put into commands: the id comes from a file, which may be hostile. */
export function auditLookups(fileId: string, keyArns: readonly string[]): AuditLookups {
  if (!/^[0-9a-f]{1,64}$/i.test(fileId)) {
    throw new KenvError('INVALID_ARGUMENT', `The ${FILE_ID_CONTEXT_KEY} in this file ("${fileId.slice(0, 80)}") is not one Kenv wrote (hex); look it up by hand.`);
  }
  const regions = [...new Set(keyArns.map((arn) => regionOfKey(arn)).filter((r): r is string => !!r))];
  const cloudTrail = (regions.length ? regions : [undefined]).map(
    (region) =>
      `aws cloudtrail lookup-events${region ? ` --region ${region}` : ''} --lookup-attributes AttributeKey=EventName,AttributeValue=Decrypt ` +
      `--query "Events[?contains(CloudTrailEvent, '${fileId}')].[EventTime,Username,CloudTrailEvent]" --output text`,
  );
  const cloudTrailLake =
    "SELECT eventTime, userIdentity.arn, sourceIPAddress, awsRegion FROM <event-data-store-id> " +
    `WHERE eventSource = 'kms.amazonaws.com' AND eventName = 'Decrypt' AND element_at(requestParameters, 'encryptionContext') LIKE '%${fileId}%' ORDER BY eventTime DESC`;
  const athena =
    'SELECT eventtime, useridentity.arn, sourceipaddress, awsregion FROM cloudtrail_logs ' +
    `WHERE eventsource = 'kms.amazonaws.com' AND eventname = 'Decrypt' AND json_extract_scalar(requestparameters, '$.encryptionContext["${FILE_ID_CONTEXT_KEY}"]') = '${fileId}' ORDER BY eventtime DESC`;
  return { cloudTrail, cloudTrailLake, athena };
}

/** `kenv audit FILE.kenv... [--json]`: the audit id and the lookups; exit 1 when a file has none. */
export async function runAuditCommand(opts: { files: string[]; json?: boolean }, io: CommandIo): Promise<number> {
  const reports: AuditReport[] = [];
  let failed = false;
  for (const file of opts.files) {
    try {
      reports.push(await auditFile(file));
    } catch (e) {
      const info = toErrorInfo(e);
      io.err(`kenv: ${file}: ${info.message} [${info.code}]`);
      failed = true;
    }
  }
  if (opts.json) {
    io.out(JSON.stringify(reports, null, 2));
  } else {
    for (const r of reports) {
      io.out(r.file);
      io.out(`  file id      ${r.fileId}   (${FILE_ID_CONTEXT_KEY} in the encryption context)`);
      io.out(`  message id   ${r.messageId}`);
      for (const k of r.keys) io.out(`  key          ${k}`);
      io.out('');
      io.out('  KMS logs the encryption context of every Decrypt in CloudTrail. Who opened this file, and when:');
      io.out('  # CloudTrail event history (last 90 days), per Region of the file\'s keys:');
      for (const c of r.lookups.cloudTrail) io.out(`  ${c}`);
      io.out('  # CloudTrail Lake (put your event data store id):');
      io.out(`  ${r.lookups.cloudTrailLake}`);
      io.out('  # Athena over a CloudTrail logs table (put your table name):');
      io.out(`  ${r.lookups.athena}`);
    }
  }
  return failed ? 1 : 0;
}
