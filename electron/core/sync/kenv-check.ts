import { open } from 'node:fs/promises';

/**
 * Does the file start like a Kenv message (ESDK message format v2 with a committing suite 0x0478 or 0x0578)?
 *
 * A cheap check of the first three bytes: sync decides what it may upload from it, so plaintext never leaves the
 * machine. It stands in for the core's `inspectFile` header parser until that lands on main (issue 5 notes).
 */
export async function looksLikeKenvMessage(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(3);
    const { bytesRead } = await fh.read(head, 0, 3, 0);
    return bytesRead === 3 && head[0] === 0x02 && (head[1] === 0x04 || head[1] === 0x05) && head[2] === 0x78;
  } finally {
    await fh.close();
  }
}
