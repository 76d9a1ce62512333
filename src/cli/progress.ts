// The one progress bar, drawn on stderr over itself (only ever on a terminal): `load` and `run` both draw it.

/** Erases the current stderr line. */
export const CLEAR_LINE = '\r\x1b[K';

/** `[#####.....] text`, `fraction` (0 to 1) of its 30 cells filled, starting with CLEAR_LINE so it redraws in place. */
export function progressLine(fraction: number, text: string, width = 30): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${CLEAR_LINE}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`;
}
