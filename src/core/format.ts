// Numbers as readers see them, in one place: digits grouped by hand (no locale), a fixed number of decimals or a
// dash for no value, bytes in binary units, an interval as "0.231 [0.219–0.246]" and its half-width as "±10%", a
// ratio as "1.6× [1.4–1.8]"; and names listed in a sentence ("a, b and c").
import type { Interval } from './intervals.js';

/** 12345.6 -> "12,346": grouping by hand, so output does not depend on the machine's locale. */
export function groupDigits(x: number): string {
  const sign = x < 0 ? '-' : '';
  return sign + String(Math.round(Math.abs(x))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A number kept to `digits` decimals, for a value a spreadsheet reads (CSV, JSON); null for none or a non-finite one. */
export function rounded(x: number | null | undefined, digits: number): number | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits));
}

/** A share as a percentage: 0.0504 -> "5.0%", with two decimals below 0.1% ("0.05%"). */
export function percentText(share: number): string {
  return `${(100 * share).toFixed(share < 0.001 ? 2 : 1)}%`;
}

export function fixed(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** Bytes in binary units, one decimal past KiB: "512 B", "9.8 KiB", "1.5 MiB". */
export function bytesText(b: number | null): string {
  if (b === null || !Number.isFinite(b)) return '—';
  const abs = Math.abs(b);
  if (abs < 1024) return `${Math.round(b)} B`;
  if (abs < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  if (abs < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

/** An interval's half-width as a share: "±10%", "±4.5%"; "±∞" for an unbounded one (null or Infinity). */
export function halfWidthText(share: number | null): string {
  return share === null || !Number.isFinite(share) ? '±∞' : `±${(100 * share).toFixed(share < 0.1 ? 1 : 0)}%`;
}

/** "0.231 [0.219–0.246]": an estimate with its 95% interval; "[?]" where two points left no interval to tell. */
export function intervalText(i: Interval | null, digits: number): string {
  if (!i) return '—';
  if (!Number.isFinite(i.hi)) return `${fixed(i.value, digits)} [?]`;
  return i.lo === i.hi ? fixed(i.value, digits) : `${fixed(i.value, digits)} [${fixed(i.lo, digits)}–${fixed(i.hi, digits)}]`;
}

/** "1.6× [1.4–1.8]": a ratio with its 95% interval, the sign after the estimate; "1.6× [?]" where none could be told. */
export function ratioText(i: Interval | null, digits = 2): string {
  return i ? intervalText(i, digits).replace(/^(\S+)/, '$1×') : '—';
}

/** "a, b and c": names in a sentence. */
export function listText(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * A command that needs root, as this user should type it: as it is for root (a fresh Debian has no sudo, and root
 * needs none), after `sudo` for anyone else.
 */
export const asRoot = (command: string, uid = process.getuid?.()): string => (uid === 0 ? command : `sudo ${command}`);

/** How to install a Debian package eventbench needs: itself, or everything with the project's install script. */
export const installHint = (debianPackage: string): string =>
  `install it with \`${asRoot(`apt-get install ${debianPackage}`)}\`, or run \`${asRoot('scripts/install-servers.sh')}\``;
