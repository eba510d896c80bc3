import type { Result } from '../../../shared/errors.js';
import { type Channel, type ParsedRequest, type Response, isChannel, requestSchemas } from '../../../shared/ipc.js';
import { toErrorInfo } from '../errors.js';

/** A handler gets a request that has already passed its schema. It may throw: the registry turns that into a Result. */
export type Handler<C extends Channel> = (request: ParsedRequest<C>) => Promise<Response<C>>;

/**
 * The one table of IPC handlers, independent of the transport.
 *
 * Electron's ipcMain wrapper and the WebSocket bridge of the end-to-end tests both call `invoke`, so every payload
 * is parsed by the contract's zod schema before a handler sees it, and every failure comes back as a code and a
 * sentence, never as a thrown error.
 */
export class HandlerRegistry {
  private readonly handlers = new Map<Channel, Handler<Channel>>();

  handle<C extends Channel>(channel: C, handler: Handler<C>): void {
    if (this.handlers.has(channel)) throw new Error(`A handler for ${channel} is registered already.`);
    this.handlers.set(channel, handler as unknown as Handler<Channel>);
  }

  has(channel: Channel): boolean {
    return this.handlers.has(channel);
  }

  channels(): Channel[] {
    return [...this.handlers.keys()];
  }

  /** Validates `payload` against the channel's schema, then runs its handler. Never throws. */
  async invoke(channel: unknown, payload: unknown): Promise<Result<unknown>> {
    if (!isChannel(channel)) {
      return { ok: false, error: { code: 'INVALID_REQUEST', message: 'The app received a request for an unknown action. Restart Kenv; if it happens again, report it.' } };
    }
    const handler = this.handlers.get(channel);
    if (!handler) {
      return { ok: false, error: { code: 'INVALID_REQUEST', message: `The action ${channel} is not available in this version of Kenv.` } };
    }
    const parsed = requestSchemas[channel].safeParse(payload);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).slice(0, 3).join('; ');
      return { ok: false, error: { code: 'INVALID_REQUEST', message: `The app refused a malformed ${channel} request (${where}). Restart Kenv; if it happens again, report it.` } };
    }
    try {
      return { ok: true, value: await handler(parsed.data as ParsedRequest<Channel>) };
    } catch (error) {
      return { ok: false, error: toErrorInfo(error) };
    }
  }
}
