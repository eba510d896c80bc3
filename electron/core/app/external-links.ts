/**
 * The only web pages a link in the window may open in the browser.
 *
 * `shell.openExternal` is a way out of the sandbox (a URL can carry data, or name a handler such as `file:` or
 * `smb:`), so the page does not get to choose: the main process opens a URL only if it is one of these, compared
 * exactly. The SSO sign-in URL is not here: the main process builds that one itself and opens it directly.
 */
export const DOCUMENTATION_URLS: readonly string[] = [
  'https://docs.aws.amazon.com/kms/latest/developerguide/overview.html',
  'https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html',
  'https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html',
  'https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/introduction.html',
  'https://docs.aws.amazon.com/singlesignon/latest/userguide/what-is.html',
  'https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sso.html',
];

/** May the window's link to `url` open in the browser? Only an exact entry of `DOCUMENTATION_URLS`. */
export function isDocumentationUrl(url: string): boolean {
  return DOCUMENTATION_URLS.includes(url);
}
