// Keys for listing tests: S3's order computed independently of the product, names where UTF-16 and UTF-8 orders part,
// and a seeded generator so that fast-check's seeds pick the sets.

/** S3's order: the keys' UTF-8 bytes. */
export const s3Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The `i`th name (`<letters>.kenv`) over `alphabet`, every string of its letters once, shortest first. */
export function nameOver(alphabet: readonly string[]): (i: number) => string {
  return (i) => {
    let s = '';
    for (let n = i; ; n = Math.floor(n / alphabet.length) - 1) {
      s = alphabet[n % alphabet.length]! + s;
      if (n < alphabet.length) break;
    }
    return `${s}.kenv`;
  };
}

/** A small deterministic generator (xorshift32) of numbers in [0, 1). */
export function chooser(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
