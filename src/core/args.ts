// Shared argument helpers for the CLI commands: turn node:util parseArgs failures and raw strings into UsageErrors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** parseArgs in strict mode, with its errors rewritten as one clear line naming the flag and the help command. */
export function parseCommandArgs<T extends OptionSpec>(command: string, argv: string[], options: T) {
  try {
    return parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const flag = /'([^']+)'/.exec(text)?.[1] ?? argv.join(' ');
    const why =
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? 'is not a flag of this command'
        : (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
          ? 'needs a value'
          : text;
    throw new UsageError('flag', flag, why, `see \`eventbench ${command} --help\``);
  }
}

/** A number from the command line, checked against inclusive bounds. */
export function numberArg(field: string, raw: string | undefined, min: number, max: number, integer = true): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const kind = integer ? 'a whole number' : 'a number';
  if (raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(field, raw, Number.isFinite(min) ? `expected ${kind} from ${min} to ${max}` : `expected ${kind}`);
  }
  if (value < min || value > max) throw new UsageError(field, value, `the limit is ${min} to ${max}`);
  return value;
}

/** A number from the command line, checked only for form; the library validates its range with the real limits. */
export function parseNumberArg(field: string, raw: string | undefined, integer = true): number | undefined {
  return numberArg(field, raw, -Infinity, Infinity, integer);
}

/**
 * A share from the command line, as a percentage ("5%") or a fraction ("0.05"), checked against inclusive bounds
 * given as fractions. A bare number above 1 is refused rather than read as a percentage: 5 could mean either.
 */
export function shareArg(field: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const percent = text.endsWith('%');
  const value = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
  const limit = `the limit is ${min * 100}% to ${max * 100}%`;
  const example = `e.g. ${field} 5% or ${field} 0.05`;
  if (text === '' || text === '%' || !Number.isFinite(value)) throw new UsageError(field, raw, `expected a share such as 5% or 0.05`);
  if (value < min || value > max) {
    throw new UsageError(field, raw, !percent && value > 1 ? `${limit} (a bare number is a fraction)` : limit, example);
  }
  return value;
}

const TIME_UNITS_S: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 };

/** A length of time from the command line ("90s", "10m", "1h", or seconds), in seconds, checked against inclusive bounds. */
export function durationArg(field: string, raw: string | undefined, minS: number, maxS: number): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/.exec(raw);
  if (!m) throw new UsageError(field, raw, 'expected a time such as 90s, 10m, 1h or a number of seconds', `e.g. ${field} 10m`);
  const seconds = Number(m[1]) * TIME_UNITS_S[m[2]!]!;
  if (seconds < minS || seconds > maxS) {
    throw new UsageError(field, raw, `the limit is ${timeText(minS)} to ${timeText(maxS)}`, `e.g. ${field} 10m`);
  }
  return seconds;
}

/** 90 -> "90s", 600 -> "10m", 86400 -> "24h": seconds in the largest whole unit, as --budget takes them. */
export function timeText(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
