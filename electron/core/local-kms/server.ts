import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { KenvError } from '../errors.js';
import { type KeyRecord, type KeyState, KeyStore, keyArn, LOCAL_KMS_ACCOUNT } from './key-store.js';
import { KmsError } from './kms-error.js';
import { type OperationContext, operations } from './operations.js';

/**
 * What the server says about itself on start. It is printed by `kenv local-kms` and belongs in any demo's notes.
 *
 * The server does not verify request signatures (it reads only the Region out of the SigV4 credential scope), so
 * anyone who can reach the port can use every key; and the key material sits in the clear in the state folder.
 */
export const LOCAL_KMS_WARNING =
  'Local KMS is for tests and demos and protects nothing: it does not check request signatures, ' +
  'and its key material is stored in the clear in the state folder.';

/** The alias of the key `seedDemoKey` creates on first start. */
export const DEMO_KEY_ALIAS = 'alias/kenv-demo';

/** The Region of a request that carries no SigV4 credential scope, and of the demo key unless told otherwise. */
export const DEFAULT_REGION = 'us-east-1';

/**
 * Makes the server answer AccessDeniedException for an operation on a key, as an IAM policy without that permission
 * would.
 *
 * `operation` is a KMS operation name (`Decrypt`), a permission name (`ReEncryptFrom`) or `*`. `key` is a key id, key
 * ARN, alias name, alias ARN, or `*` for every key (and for operations such as GenerateRandom that name no key).
 */
export interface DenyRule {
  operation: string;
  key: string;
}

export interface KeySummary {
  arn: string;
  keyId: string;
  region: string;
  aliases: string[];
  enabled: boolean;
  keyState: KeyState;
}

export interface LocalKmsOptions {
  /** Folder holding `local-kms.json` (created when missing). */
  stateDir: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** The first N requests answer ThrottlingException. */
  throttleFirst?: number;
  deny?: DenyRule[];
  /** Create a key with alias `alias/kenv-demo` on first start (default true); later starts reuse it. */
  seedDemoKey?: boolean;
  /** The Region the demo key is created in (default us-east-1). */
  region?: string;
}

export interface LocalKms {
  /** `http://host:port`, the value for `AWS_ENDPOINT_URL_KMS` and `AWS_ENDPOINT_URL_STS` (see answerSts). */
  url: string;
  port: number;
  /** Every key of every Region, in creation order. */
  keys(): KeySummary[];
  /** Requests received per operation name, counting throttled, denied and failed ones. */
  counts(): Record<string, number>;
  /** Adds a deny rule from now on. */
  deny(rule: DenyRule): void;
  /** Removes the deny rules equal to `rule`, or every rule when called without one. */
  allow(rule?: DenyRule): void;
  /** The next `n` requests answer ThrottlingException. */
  throttleNext(n: number): void;
  /** Stops listening and drops open connections; calling it again returns the same promise. */
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Starts a KMS-compatible server speaking the KMS JSON 1.1 protocol, for tests and demos.
 *
 * Real AES-256-GCM under per-key 256-bit material, keys per Region (taken from the request's SigV4 credential scope),
 * errors in the AWS shape, and state persisted in `stateDir` across restarts. NO signature verification: see
 * LOCAL_KMS_WARNING.
 */
export async function startLocalKms(opts: LocalKmsOptions): Promise<LocalKms> {
  const store = new KeyStore(opts.stateDir);
  const host = opts.host ?? '127.0.0.1';
  let throttleRemaining = nonNegativeInteger(opts.throttleFirst ?? 0, 'throttleFirst');
  let denyRules: DenyRule[] = (opts.deny ?? []).map(checkDenyRule);
  const counts: Record<string, number> = {};

  if (opts.seedDemoKey ?? true) {
    const region = opts.region ?? DEFAULT_REGION;
    if (!store.findAlias(region, DEMO_KEY_ALIAS)) {
      const key = store.createKey(region, { description: 'Kenv demo key (local KMS)', multiRegion: false });
      store.createAlias(region, DEMO_KEY_ALIAS, key);
    }
  }

  function isDenied(region: string, operation: string, action: string, key: KeyRecord | undefined): boolean {
    return denyRules.some((rule) => {
      if (rule.operation !== '*' && rule.operation !== operation && rule.operation !== action) return false;
      if (rule.key === '*') return true;
      if (!key) return false;
      try {
        return store.resolve(region, rule.key) === key;
      } catch {
        return false;
      }
    });
  }

  function handle(operation: string, region: string, body: string): Record<string, unknown> {
    const run = operations[operation];
    if (!run) throw new KmsError('UnknownOperationException', `Local KMS does not implement the operation ${operation}.`);
    let input: unknown;
    try {
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      throw new KmsError('SerializationException', 'The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new KmsError('SerializationException', 'The request body must be a JSON object.');
    }
    const ctx: OperationContext = {
      store,
      region,
      authorize(action, key) {
        if (!isDenied(region, operation, action, key)) return;
        const resource = key ? keyArn(key.region, key.keyId) : '*';
        throw new KmsError(
          'AccessDeniedException',
          `User: arn:aws:iam::${LOCAL_KMS_ACCOUNT}:user/local-kms-user is not authorized to perform: kms:${action} ` +
            `on resource: ${resource} because no identity-based policy allows the kms:${action} action`,
        );
      },
    };
    return run(ctx, input as Record<string, unknown>);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const body = await readBody(req);
      if (req.method === 'POST' && !headerValue(req, 'x-amz-target') && /^application\/x-www-form-urlencoded/.test(headerValue(req, 'content-type') ?? '')) {
        answerSts(res, requestId, body, counts);
        return;
      }
      if (req.method !== 'POST' || req.url !== '/') {
        throw new KmsError('UnknownOperationException', `Local KMS answers only POST /, not ${req.method} ${req.url}.`);
      }
      const target = /^TrentService\.([A-Za-z]+)$/.exec(headerValue(req, 'x-amz-target') ?? '');
      const operation = target?.[1];
      if (!operation) throw new KmsError('UnknownOperationException', 'The X-Amz-Target header must name a TrentService operation.');
      counts[operation] = (counts[operation] ?? 0) + 1;
      if (throttleRemaining > 0) {
        throttleRemaining -= 1;
        throw new KmsError('ThrottlingException', 'Rate exceeded');
      }
      send(res, requestId, 200, handle(operation, requestRegion(req), body));
    } catch (e) {
      const error = e instanceof KmsError ? e : new KmsError('KMSInternalException', `Local KMS failed: ${String(e)}`, 500);
      res.setHeader('x-amzn-errortype', error.type);
      send(res, requestId, error.status, { __type: error.type, message: error.message });
    }
  }

  const server = createServer((req, res) => void onRequest(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    keys: () =>
      store.allKeys().map((k) => ({
        arn: keyArn(k.region, k.keyId),
        keyId: k.keyId,
        region: k.region,
        aliases: store.aliasesOf(k).map((a) => a.name),
        enabled: k.state === 'Enabled',
        keyState: k.state,
      })),
    counts: () => ({ ...counts }),
    deny(rule) {
      denyRules.push(checkDenyRule(rule));
    },
    allow(rule) {
      denyRules = rule ? denyRules.filter((r) => r.operation !== rule.operation || r.key !== rule.key) : [];
    },
    throttleNext(n) {
      throttleRemaining = nonNegativeInteger(n, 'throttleNext');
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // The SDK keeps connections alive; without this, close() would wait for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The identity every caller of the local KMS is: it checks no signature, so there is only one. */
export const DEMO_IDENTITY = {
  account: LOCAL_KMS_ACCOUNT,
  arn: `arn:aws:iam::${LOCAL_KMS_ACCOUNT}:user/local-kms-user`,
  userId: 'AIDALOCALKMSDEMOUSER',
} as const;

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * STS GetCallerIdentity (Query protocol: a form-encoded POST, an XML answer) on the same port, so `kenv whoami` and
 * the app's identity panel work against the demo with AWS_ENDPOINT_URL_STS pointing here. Every caller is
 * DEMO_IDENTITY; other STS actions answer InvalidAction.
 */
function answerSts(res: ServerResponse, requestId: string, body: string, counts: Record<string, number>): void {
  const action = new URLSearchParams(body).get('Action') ?? '';
  counts[`sts:${action}`] = (counts[`sts:${action}`] ?? 0) + 1;
  const reply = (status: number, xml: string) => {
    res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml), 'x-amzn-requestid': requestId });
    res.end(xml);
  };
  if (action === 'GetCallerIdentity') {
    reply(200, `<GetCallerIdentityResponse xmlns="${STS_NS}"><GetCallerIdentityResult><Arn>${DEMO_IDENTITY.arn}</Arn>` +
      `<UserId>${DEMO_IDENTITY.userId}</UserId><Account>${DEMO_IDENTITY.account}</Account></GetCallerIdentityResult>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
    return;
  }
  const shown = action.replace(/[^A-Za-z0-9]/g, '').slice(0, 64);
  reply(400, `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
    `<Message>Local KMS answers only the STS action GetCallerIdentity, not ${shown || 'an empty action'}.</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`);
}

/** The Region of the SigV4 credential scope (`Credential=AKID/20261123/eu-west-1/kms/aws4_request`). */
function requestRegion(req: IncomingMessage): string {
  const m = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\//.exec(headerValue(req, 'authorization') ?? '');
  return m?.[1] ?? DEFAULT_REGION;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  if (size > MAX_BODY) throw new KmsError('ValidationException', `The request body is larger than ${MAX_BODY} bytes.`, 413);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, requestId: string, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  });
  res.end(text);
}

function checkDenyRule(rule: DenyRule): DenyRule {
  if (typeof rule?.operation !== 'string' || rule.operation === '' || typeof rule.key !== 'string' || rule.key === '') {
    throw new KenvError('INVALID_ARGUMENT', 'A deny rule needs an operation (such as Decrypt, or *) and a key (id, ARN, alias, or *).');
  }
  return { operation: rule.operation, key: rule.key };
}

function nonNegativeInteger(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 0) throw new KenvError('INVALID_ARGUMENT', `${name} must be a whole number of requests, 0 or more.`);
  return n;
}
