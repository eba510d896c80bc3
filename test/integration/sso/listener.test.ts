// The browser flow's one-shot loopback listener: only GET /oauth/callback counts; timeout, abort and a missing code
// each end the sign-in with a clear error, and the listener never outlives the sign-in.
import { getEventListeners } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { login } from '../../../electron/core/sso/login.js';
import { IdentityDirectory } from '../../support/aws-identities.js';
import { SSO_PROFILES, useLocalSignIn } from '../../support/local-sign-in.js';

const local = useLocalSignIn(new IdentityDirectory(), { userName: 'alice@example.com' });

/** The browser's half: the authorize URL's redirect to Kenv's listener, without following it. */
async function redirectOf(authorizeUrl: string): Promise<URL> {
  const r = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(r.status).toBe(302);
  return new URL(r.headers.get('location')!);
}

function portOf(authorizeUrl: string): number {
  return Number(new URL(new URL(authorizeUrl).searchParams.get('redirect_uri')!).port);
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the sign-in callback listener', () => {
  it('answers 404 to another path or method carrying a valid code and state, keeps waiting, and then takes the real redirect', async () => {
    const strays: number[] = [];
    const result = await login({
      profile: 'work',
      openBrowser: async (url) => {
        const location = await redirectOf(url);
        for (const path of ['/', '/oauth/callback/x', '/other']) {
          const stray = new URL(location);
          stray.pathname = path;
          strays.push((await fetch(stray)).status);
        }
        strays.push((await fetch(location, { method: 'POST' })).status);
        expect(await (await fetch(location)).text()).toContain('Kenv is signed in');
      },
    });
    expect(strays).toEqual([404, 404, 404, 404]);
    expect(result.flow).toBe('authorization-code');
    expect(local.sso.calls.filter((c) => c.startsWith('CreateToken'))).toHaveLength(1);
  });

  it('a redirect without a code fails with SSO_LOGIN_FAILED saying so, and the listener is closed', async () => {
    let port = 0;
    await expect(login({
      profile: 'work',
      openBrowser: async (url) => {
        port = portOf(url);
        const location = await redirectOf(url);
        location.searchParams.delete('code');
        await (await fetch(location)).text();
      },
    })).rejects.toMatchObject({ code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('no authorization code') });
    expect(local.sso.calls.filter((c) => c.startsWith('CreateToken'))).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('no redirect within callbackTimeoutMs fails with SSO_LOGIN_FAILED (not completed in time), and the listener is closed', async () => {
    let port = 0;
    await expect(login({ profile: 'work', callbackTimeoutMs: 50, openBrowser: async (url) => void (port = portOf(url)) }))
      .rejects.toMatchObject({ code: 'SSO_LOGIN_FAILED', message: expect.stringContaining('not completed in time') });
    expect(port).toBeGreaterThan(0);
    expect(await listening(port)).toBe(false);
  });

  it('aborting the signal while waiting fails with CANCELLED, takes no token, and the listener is closed', async () => {
    const controller = new AbortController();
    let port = 0;
    await expect(login({
      profile: 'work',
      signal: controller.signal,
      openBrowser: async (url) => {
        port = portOf(url);
        expect(await listening(port)).toBe(true);
        controller.abort();
      },
    })).rejects.toMatchObject({ code: 'CANCELLED', message: 'The sign-in was cancelled.' });
    expect(local.sso.calls.filter((c) => c.startsWith('CreateToken'))).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('listens on 127.0.0.1 only, and closes after a successful sign-in', async () => {
    let port = 0;
    let redirectHost = '';
    await login({
      profile: 'work',
      openBrowser: async (url) => {
        port = portOf(url);
        redirectHost = new URL(new URL(url).searchParams.get('redirect_uri')!).hostname;
        await (await fetch(await redirectOf(url))).text();
      },
    });
    expect(redirectHost).toBe('127.0.0.1');
    expect(await listening(port)).toBe(false);
  });

  it('accepts no connection on another address of the machine (::1, 127.0.0.2) while it waits', async () => {
    const reachable: boolean[] = [];
    await login({
      profile: 'work',
      openBrowser: async (url) => {
        const port = portOf(url);
        reachable.push(await listening(port), await listening(port, '::1'), await listening(port, '127.0.0.2'));
        await (await fetch(await redirectOf(url))).text();
      },
    });
    expect(reachable).toEqual([true, false, false]);
  });

  it('the page the browser lands on says whether the sign-in completed, and is never cached', async () => {
    const pages: { status: number; type: string | null; cache: string | null; text: string }[] = [];
    const land = async (url: string) => {
      const r = await fetch(await redirectOf(url));
      pages.push({ status: r.status, type: r.headers.get('content-type'), cache: r.headers.get('cache-control'), text: await r.text() });
    };
    await login({ profile: 'work', openBrowser: land });
    local.sso.options.denyAuthorize = true;
    await expect(login({ profile: 'work', openBrowser: land })).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED',
      message: 'IAM Identity Center refused the sign-in for profile work (access_denied: The user denied the request.). Run kenv login --profile work again and approve the request in the browser.',
    });
    expect(pages.map((p) => [p.status, p.type, p.cache])).toEqual([
      [200, 'text/html; charset=utf-8', 'no-store'],
      [200, 'text/html; charset=utf-8', 'no-store'],
    ]);
    expect(pages[0]!.text).toContain('<h1>Kenv is signed in</h1><p>You can close this tab and return to Kenv.</p>');
    expect(pages[1]!.text).toContain('<h1>Sign-in did not complete</h1><p>Return to Kenv for details.</p>');
    expect(pages[1]!.text).not.toContain('signed in');
  });

  it('a stray path gets a plain 404', async () => {
    let stray: { type: string | null; text: string } | undefined;
    await login({
      profile: 'work',
      openBrowser: async (url) => {
        const location = await redirectOf(url);
        const r = await fetch(new URL('/favicon.ico', location));
        stray = { type: r.headers.get('content-type'), text: await r.text() };
        await (await fetch(location)).text();
      },
    });
    expect(stray).toEqual({ type: 'text/plain', text: 'Not found' });
  });

  it('a connection left half-open on the listener does not hold the sign-in up: it ends, and so does the connection', async () => {
    let socket: Socket | undefined;
    let socketClosed = false;
    const result = await login({
      profile: 'work',
      openBrowser: async (url) => {
        const port = portOf(url);
        socket = connect(port, '127.0.0.1');
        await new Promise((resolve) => socket!.once('connect', resolve));
        socket.once('close', () => (socketClosed = true));
        socket.on('error', () => undefined);
        socket.write('GET /oauth/callback?state=x HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
        await (await fetch(await redirectOf(url))).text();
      },
    });
    expect(result.flow).toBe('authorization-code');
    await new Promise((resolve) => (socketClosed ? resolve(undefined) : socket!.once('close', resolve)));
    expect(socketClosed).toBe(true);
  });

  it('cancels its sign-in deadline once signed in (a finished kenv login exits at once, not when the deadline passes)', async () => {
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const clearTimer = vi.spyOn(globalThis, 'clearTimeout');
    try {
      await login({ profile: 'work', callbackTimeoutMs: 3_600_000, openBrowser: async (url) => void (await (await fetch(await redirectOf(url))).text()) });
      const deadlines = setTimer.mock.calls.flatMap((call, i) => (call[1] === 3_600_000 ? [setTimer.mock.results[i]!.value as unknown] : []));
      expect(deadlines).toHaveLength(1);
      expect(clearTimer.mock.calls.map((call) => call[0])).toContain(deadlines[0]);
    } finally {
      setTimer.mockRestore();
      clearTimer.mockRestore();
    }
  });

  it('removes its listener from the abort signal once signed in (the signal holds nothing of the finished sign-in)', async () => {
    const controller = new AbortController();
    await login({ profile: 'work', signal: controller.signal, openBrowser: async (url) => {
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      await (await fetch(await redirectOf(url))).text();
    } });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a refusal in the browser is reported with the reason IAM Identity Center gave, and without one when it gave none', async () => {
    local.sso.options.denyAuthorize = true;
    const refused = (keepDescription: boolean) => login({
      profile: 'work',
      openBrowser: async (url) => {
        const location = await redirectOf(url);
        if (!keepDescription) location.searchParams.delete('error_description');
        await (await fetch(location)).text();
      },
    });
    const next = 'Run kenv login --profile work again and approve the request in the browser.';
    await expect(refused(true)).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED', message: `IAM Identity Center refused the sign-in for profile work (access_denied: The user denied the request.). ${next}`,
    });
    await expect(refused(false)).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED', message: `IAM Identity Center refused the sign-in for profile work (access_denied). ${next}`,
    });
    expect(local.sso.calls.filter((c) => c.startsWith('CreateToken'))).toEqual([]);
  });

  it('a code IAM Identity Center did not issue is refused by CreateToken, and the sentence names that step', async () => {
    let port = 0;
    await expect(login({
      profile: 'work',
      openBrowser: async (url) => {
        port = portOf(url);
        const location = await redirectOf(url);
        location.searchParams.set('code', 'forged');
        await (await fetch(location)).text();
      },
    })).rejects.toMatchObject({
      code: 'SSO_LOGIN_FAILED',
      message: expect.stringMatching(/^Signing in to https:\/\/corp\.awsapps\.com\/start for profile work failed at CreateToken \(InvalidGrantException\b.*\)\. Check sso_start_url and sso_region in ~\/\.aws\/config, then run kenv login again\.$/),
    });
    expect(local.sso.calls).toContain('CreateToken:authorization_code');
    expect(await listening(port)).toBe(false);
  });

  it('asks the browser for every scope of the sso-session, separated by spaces', async () => {
    local.aws.writeConfig(SSO_PROFILES.replace('sso_registration_scopes = sso:account:access', 'sso_registration_scopes = sso:account:access, codewhisperer:completions'));
    let scopes: string | null = null;
    await login({
      profile: 'work',
      openBrowser: async (url) => {
        scopes = new URL(url).searchParams.get('scopes');
        await (await fetch(await redirectOf(url))).text();
      },
    });
    expect(scopes).toBe('sso:account:access codewhisperer:completions');
  });
});

