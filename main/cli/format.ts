/** How the CLI writes counts, times and figures that may not apply, in one place. */

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

/** An ISO time as this machine's local time, with its UTC offset ("2026-12-02 14:05:09 +01:00"). */
export function localTime(iso: string | null | undefined): string {
  if (!iso) return 'unknown';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const zone = `${offset >= 0 ? '+' : '-'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

/** A figure, or "n/a" where it does not apply (NaN, no samples). */
export function figure(value: number | null | undefined, write: (v: number) => string): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : write(value);
}
