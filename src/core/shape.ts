// The shape of JSON that comes from outside (an agent's answers over a link, a run.json anyone may have edited),
// written once as a value and checked before anything reads it: a wrong shape is one line naming where (the path
// of the field), what was expected and what came. Fields not named are allowed (a newer writer may add some).
//   const CLOCK = obj({ monoMs: num, wallMs: num });
//   CLOCK.problem(value, 'clock')  ->  'clock.monoMs: expected a number, got "soon"'

export interface Shape {
  /** What it expects, in words: "a number", "a list of strings". */
  readonly what: string;
  /** The problem with `v` at `at`, or undefined when `v` has this shape. */
  problem(v: unknown, at: string): string | undefined;
  /** Whether a field of this shape may be left out of an object. */
  readonly optional?: true;
}

/** A value as a problem shows it: JSON, cut to 60 characters. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const leaf = (what: string, ok: (v: unknown) => boolean): Shape => ({
  what,
  problem: (v, at) => (ok(v) ? undefined : `${at}: expected ${what}, got ${shown(v)}`),
});

export const str = leaf('a string', (v) => typeof v === 'string');
export const num = leaf('a number', (v) => typeof v === 'number' && Number.isFinite(v));
export const int = leaf('a whole number', (v) => Number.isSafeInteger(v));
export const bool = leaf('true or false', (v) => typeof v === 'boolean');
export const any: Shape = { what: 'anything', problem: () => undefined };

/** One of these exact values. */
export function literal(...values: readonly (string | number | boolean | null)[]): Shape {
  return leaf(values.map((x) => JSON.stringify(x)).join(' or '), (v) => values.includes(v as string));
}

/** A field that may be absent (or undefined). */
export function opt(s: Shape): Shape {
  return { what: s.what, optional: true, problem: (v, at) => (v === undefined ? undefined : s.problem(v, at)) };
}

/** `s` or null (JSON has no NaN or Infinity: a figure that could not be computed arrives as null). */
export function nullable(s: Shape): Shape {
  const what = `${s.what} or null`;
  return {
    what,
    problem(v, at) {
      const p = v === null ? undefined : s.problem(v, at);
      return p?.startsWith(`${at}: expected `) ? `${at}: expected ${what}, got ${shown(v)}` : p;
    },
  };
}

/** A list of `s`, at most `max` long. */
export function arr(s: Shape, max = Infinity): Shape {
  return {
    what: `a list of ${s.what.replace(/^an? /, '')}s`,
    problem(v, at) {
      if (!Array.isArray(v)) return `${at}: expected a list, got ${shown(v)}`;
      if (v.length > max) return `${at}: expected at most ${max} items, got ${v.length}`;
      for (const [i, x] of v.entries()) {
        const p = s.problem(x, `${at}[${i}]`);
        if (p) return p;
      }
      return undefined;
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object with these fields (each required unless `opt`); other fields are allowed. */
export function obj(fields: Readonly<Record<string, Shape>>, what = 'an object'): Shape {
  return {
    what,
    problem(v, at) {
      if (!isObject(v)) return `${at}: expected ${what}, got ${shown(v)}`;
      for (const [k, s] of Object.entries(fields)) {
        if (!(k in v) && !s.optional) return `${at}.${k}: is missing (expected ${s.what})`;
        const p = s.problem(v[k], `${at}.${k}`);
        if (p) return p;
      }
      return undefined;
    },
  };
}

/** An object whose every value has shape `s` (a map by name). */
export function record(s: Shape): Shape {
  return {
    what: `an object of ${s.what.replace(/^an? /, '')}s`,
    problem(v, at) {
      if (!isObject(v)) return `${at}: expected an object, got ${shown(v)}`;
      for (const [k, x] of Object.entries(v)) {
        const p = s.problem(x, `${at}.${k}`);
        if (p) return p;
      }
      return undefined;
    },
  };
}

/** The first of `shapes` that fits; the problem named is the one of the shape `pick` chose (or of the first). */
export function oneOf(shapes: readonly Shape[], pick?: (v: unknown) => number): Shape {
  const what = shapes.map((s) => s.what).join(', or ');
  return {
    what,
    problem(v, at) {
      if (shapes.some((s) => s.problem(v, at) === undefined)) return undefined;
      const chosen = shapes[pick?.(v) ?? -1];
      return chosen ? chosen.problem(v, at) : `${at}: expected ${what}, got ${shown(v)}`;
    },
  };
}
