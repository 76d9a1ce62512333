// A user server's command line: split into words as a shell would (without running one), and its placeholders
// filled when the server is started.
import { UsageError } from '../../core/errors.js';

/** Splits a command line into words as a shell would (quotes and backslashes), without running a shell. */
export function splitWords(field: string, line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    // A backslash escapes the next character, inside double quotes only " \ $ and `.
    if (c === '\\' && i + 1 < line.length && (quote === undefined || '"\\$`'.includes(line[i + 1]!))) {
      word = (word ?? '') + line[++i];
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
      continue;
    }
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word = (word ?? '') + c;
  }
  if (quote) throw new UsageError(field, line, `has an unclosed ${quote} quote`, 'close it, or quote the whole --server value once');
  if (word !== undefined) words.push(word);
  return words;
}

/** Fills the placeholders of one word (or env value): {port}, {host}, {backlog} and {page}. */
export function fill(word: string, values: Record<'port' | 'host' | 'backlog' | 'page', string>): string {
  return word.replace(/\{(port|host|backlog|page)\}/g, (_, k: keyof typeof values) => values[k]);
}
