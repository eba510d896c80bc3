import { randomBytes } from 'node:crypto';

/** A set of AWS credentials and who they belong to. */
export interface Principal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  arn: string;
  account: string;
  userId: string;
  expiresAt?: Date;
}

/**
 * The accounts behind the local STS and SSO servers: which access key is whom.
 *
 * Shared by the servers so that credentials issued by SSO GetRoleCredentials or STS AssumeRole are recognised by
 * STS GetCallerIdentity.
 */
export class IdentityDirectory {
  private readonly byKey = new Map<string, Principal>();

  /** Registers long-term keys for an IAM user. */
  addUser(account: string, userName: string, accessKeyId = `AKIA${hex(8).toUpperCase()}`, secretAccessKey = hex(20)): Principal {
    const p: Principal = { accessKeyId, secretAccessKey, arn: `arn:aws:iam::${account}:user/${userName}`, account, userId: `AIDA${hex(8).toUpperCase()}` };
    this.byKey.set(accessKeyId, p);
    return p;
  }

  /** Issues temporary credentials for a role session. */
  issueRoleSession(account: string, roleName: string, sessionName: string, ttlMs: number): Principal & { expiresAt: Date; sessionToken: string } {
    const roleId = `AROA${hex(8).toUpperCase()}`;
    const p = {
      accessKeyId: `ASIA${hex(8).toUpperCase()}`,
      secretAccessKey: hex(20),
      sessionToken: hex(32),
      arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
      account,
      userId: `${roleId}:${sessionName}`,
      expiresAt: new Date(Date.now() + ttlMs),
    };
    this.byKey.set(p.accessKeyId, p);
    return p;
  }

  lookup(accessKeyId: string | undefined): Principal | undefined {
    return accessKeyId ? this.byKey.get(accessKeyId) : undefined;
  }
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
