import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started local server: its base URL and how to stop it. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1, port 0; a handler that throws answers 500 with the error. */
export async function listen(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => Promise<void> | void): Promise<LocalServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve()
        .then(() => handler(req, Buffer.concat(chunks), res))
        .catch((e: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(e));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * An endpoint that refuses connections, and stays so for as long as it is kept.
 *
 * A closed server's port is free for any other test to take; instead this binds 127.0.0.1 port 0 and keeps that socket
 * (so no one else gets the port), and hands out the same port on 127.0.0.2, where nothing listens: loopback, so the
 * connection is refused at once. Close it in afterAll.
 */
export async function refusingEndpoint(): Promise<LocalServer> {
  const holder = await listen(() => undefined);
  return { url: holder.url.replace('http://127.0.0.1:', 'http://127.0.0.2:'), close: () => holder.close() };
}

/** The access key id of a SigV4-signed request (Authorization: AWS4-HMAC-SHA256 Credential=AKID/...). */
export function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
