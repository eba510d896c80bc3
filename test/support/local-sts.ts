import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { IdentityDirectory } from './aws-identities.js';
import { accessKeyOf, listen, type LocalServer } from './http.js';

/** A local STS (Query protocol) with GetCallerIdentity and AssumeRole, for AWS_ENDPOINT_URL_STS. */
export interface LocalSts extends LocalServer {
  /** Every action received, in order. */
  calls: { action: string; accessKeyId?: string }[];
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * Starts the server. Unknown access keys get InvalidClientTokenId, expired ones ExpiredToken, role ARNs listed in
 * `denyAssumeRole` get AccessDenied.
 */
export async function startLocalSts(directory: IdentityDirectory, opts: { denyAssumeRole?: string[] } = {}): Promise<LocalSts> {
  const calls: LocalSts['calls'] = [];
  const server = await listen((req, body, res) => {
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    const accessKeyId = accessKeyOf(req);
    calls.push({ action, ...(accessKeyId ? { accessKeyId } : {}) });
    const caller = directory.lookup(accessKeyId);
    if (!caller) return error(res, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (caller.expiresAt && caller.expiresAt.getTime() <= Date.now()) {
      return error(res, 400, 'ExpiredToken', 'The security token included in the request is expired');
    }
    if (action === 'GetCallerIdentity') {
      return xml(res, `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${caller.arn}</Arn>` +
        `<UserId>${caller.userId}</UserId><Account>${caller.account}</Account></GetCallerIdentityResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
    }
    if (action === 'AssumeRole') {
      const roleArn = params.get('RoleArn') ?? '';
      const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
      if (!m) return error(res, 400, 'ValidationError', `${roleArn} is not a valid role ARN.`);
      if (opts.denyAssumeRole?.includes(roleArn)) {
        return error(res, 403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
      }
      const seconds = Number(params.get('DurationSeconds') ?? 3600);
      const session = directory.issueRoleSession(m[1]!, m[2]!, params.get('RoleSessionName') ?? 'session', seconds * 1000);
      return xml(res, `<AssumeRoleResponse xmlns="${NS}"><AssumeRoleResult><Credentials>` +
        `<AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${session.secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${session.sessionToken}</SessionToken><Expiration>${session.expiresAt.toISOString()}</Expiration>` +
        `</Credentials><AssumedRoleUser><Arn>${session.arn}</Arn><AssumedRoleId>${session.userId}</AssumedRoleId></AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    }
    return error(res, 400, 'InvalidAction', `Could not find operation ${action}.`);
  });
  return { ...server, calls };
}

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(body);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(`<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
}
