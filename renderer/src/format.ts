const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (decimal units, as file managers show them). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Seconds → "about 3 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 1) return 'less than a second';
  if (seconds < 60) return `about ${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `about ${Math.ceil(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

/** "111122223333" → "1111 2222 3333", the way the AWS console groups account ids. */
export function formatAccount(account: string): string {
  return account.replace(/^(\d{4})(\d{4})(\d{4})$/, '$1 $2 $3');
}

export function suiteLabel(suiteId: number, signed: boolean): string {
  const hex = `0x${suiteId.toString(16).padStart(4, '0').toUpperCase()}`;
  return `AES-256-GCM with key commitment${signed ? ', ECDSA P-384 signature' : ''} (${hex})`;
}
