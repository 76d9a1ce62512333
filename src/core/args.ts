// Shared argument helpers for the CLI commands: turn node:util parseArgs failures and raw strings into UsageErrors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** parseArgs in strict mode, with its errors rewritten as one clear line naming the flag and the help command. */
export function parseCommandArgs<T extends OptionSpec>(command: string, argv: string[], options: T) {
  try {
    return parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const flag = /'([^']+)'/.exec(text)?.[1] ?? argv.join(' ');
    const why = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 'is not a flag of this command'
      : (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? 'needs a value' : text;
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
