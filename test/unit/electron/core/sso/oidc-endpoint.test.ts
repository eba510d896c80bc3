import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { afterEach, describe, expect, it } from 'vitest';
import { oidcEndpoint } from '../../../../../electron/core/sso/login.js';
import { type TempAws, useTempAws } from '../../../../support/aws-env.js';

let aws: TempAws | undefined;
afterEach(() => aws?.restore());

describe('oidcEndpoint', () => {
  it('is the Regional AWS endpoint by default, resolved without sending anything', async () => {
    aws = useTempAws();
    const client = new SSOOIDCClient({ region: 'eu-west-1' });
    expect(await oidcEndpoint(client)).toBe('https://oidc.eu-west-1.amazonaws.com');
    client.destroy();
  });

  it('follows AWS_ENDPOINT_URL_SSO_OIDC', async () => {
    aws = useTempAws();
    aws.setEnv('AWS_ENDPOINT_URL_SSO_OIDC', 'http://127.0.0.1:9/base');
    const client = new SSOOIDCClient({ region: 'us-east-1' });
    expect(await oidcEndpoint(client)).toBe('http://127.0.0.1:9/base');
    client.destroy();
  });
});
