import type { ErrorInfo } from '../../shared/errors.js';
import type { Channel, Request, Response } from '../../shared/ipc.js';

/** A failed call, carrying the code and sentence from the Node side. */
export class CallError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

/** Calls one channel of window.kenv and unwraps its Result. */
export async function call<C extends Channel>(channel: C, request: Request<C>): Promise<Response<C>> {
  const result = await window.kenv.invoke(channel, request);
  if (!result.ok) throw new CallError(result.error);
  return result.value;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof CallError) return error.info;
  return { code: 'INTERNAL', message: `Something went wrong in the window: ${error instanceof Error ? error.message : String(error)}. Reload with Ctrl+R.` };
}
