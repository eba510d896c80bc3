/**
 * Walks a .kenv message and names the byte ranges of every field, independently of the parser under test, so
 * tamper tests can aim at one field at a time.
 */
export interface Region {
  name: string;
  start: number;
  end: number;
}

export function messageLayout(msg: Buffer, signed: boolean): Region[] {
  const regions: Region[] = [];
  let at = 0;
  const add = (name: string, length: number): void => {
    regions.push({ name, start: at, end: at + length });
    at += length;
  };
  add('version', 1);
  add('suite id', 2);
  add('message id', 32);
  const ecLength = msg.readUInt16BE(at);
  add('context length', 2);
  if (ecLength > 0) {
    add('context pair count', 2);
    add('context pairs', ecLength - 2);
  }
  const edkCount = msg.readUInt16BE(at);
  add('data key count', 2);
  for (let i = 0; i < edkCount; i++) {
    for (const field of ['provider id', 'provider info', 'ciphertext']) {
      const len = msg.readUInt16BE(at);
      add(`data key ${i + 1} ${field} length`, 2);
      add(`data key ${i + 1} ${field}`, len);
    }
  }
  add('content type', 1);
  const frameLength = msg.readUInt32BE(at);
  add('frame length', 4);
  add('commitment', 32);
  add('header auth tag', 16);
  let sequence = 1;
  while (msg.readUInt32BE(at) !== 0xffffffff) {
    add(`frame ${sequence} sequence number`, 4);
    add(`frame ${sequence} IV`, 12);
    add(`frame ${sequence} ciphertext`, frameLength);
    add(`frame ${sequence} tag`, 16);
    sequence++;
  }
  add('final frame marker', 4);
  add('final frame sequence number', 4);
  add('final frame IV', 12);
  const finalLength = msg.readUInt32BE(at);
  add('final frame length', 4);
  if (finalLength > 0) add('final frame ciphertext', finalLength);
  add('final frame tag', 16);
  if (signed) {
    const sigLength = msg.readUInt16BE(at);
    add('footer signature length', 2);
    add('footer signature', sigLength);
  }
  if (at !== msg.length) throw new Error(`layout ends at ${at}, message has ${msg.length} bytes`);
  return regions;
}
