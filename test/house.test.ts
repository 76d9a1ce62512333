// House rules a reader can check by eye, checked here so that they hold: the rooms of src/ in layers, each
// importing only from the rooms below it, and files that import each other in a circle few and in one folder;
// every function in src/ at most 60 lines (from its first line to its closing brace, as TypeScript parses it);
// every file of src/ at most 450 non-blank lines; every toy server under 200 non-blank lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The rooms of src/, bottom to top, written here once: a room imports only from rooms on lines below its own, never
 * from its own line's others or from above (docs/architecture.md shows this list and says what each room holds).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['load', 'servers'],
  ['host'],
  ['check', 'results'],
  ['analysis'],
  ['sweep'],
  ['experiments'],
  ['report'],
  ['cli'],
];
const MAX_FUNCTION_LINES = 60;
const MAX_FILE_LINES = 450;
/** Files of src/ that import each other in circles (file-level), all of them in one folder. */
const MAX_CIRCLE_FILES = 4;
const MAX_SERVER_LINES = 200;
/** What several servers share (the request handling, native-epoll's loop) and how they are built: not a server. */
const SHARED = new Set(['common.c', 'eventloop.c', 'build.ts', 'index.ts']);

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|c|cc|go)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });

/** Functions (declarations, methods, arrows, expressions) longer than `max` lines in one TypeScript file. */
function longFunctions(path: string, max: number): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.end).line;
      const name = node.name?.getText(file) ?? '(anonymous)';
      if (last - first + 1 > max) found.push(`${relative(ROOT, path)}:${first + 1} ${name}: ${last - first + 1} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

test(`every function in src/ is at most ${MAX_FUNCTION_LINES} lines`, () => {
  const files = sources(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 50, `found ${files.length} TypeScript files under src/`);
  assert.deepEqual(
    files.flatMap((f) => longFunctions(f, MAX_FUNCTION_LINES)),
    [],
  );
});

const nonBlankLines = (path: string): number =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;

test(`every file of src/ is at most ${MAX_FILE_LINES} non-blank lines`, () => {
  const long = sources(join(ROOT, 'src'))
    .map((f) => ({ f, lines: nonBlankLines(f) }))
    .filter(({ lines }) => lines > MAX_FILE_LINES)
    .map(({ f, lines }) => `${relative(ROOT, f)}: ${lines}`);
  assert.deepEqual(long, []);
});

test(`every toy server is under ${MAX_SERVER_LINES} non-blank lines`, () => {
  const dirs = ['src/servers', 'src/servers/native'].map((d) => join(ROOT, d));
  const servers = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((n) => /\.(ts|c|cc|go)$/.test(n) && !SHARED.has(n))
      .map((n) => join(d, n)),
  );
  const long = servers
    .map((f) => ({ f, lines: nonBlankLines(f) }))
    .filter(({ lines }) => lines >= MAX_SERVER_LINES)
    .map(({ f, lines }) => `${relative(ROOT, f)}: ${lines}`);
  assert.deepEqual(long, []);
});

/** Every relative import of a TypeScript file (`import`, `import type`, `export ... from`, `import()`), as repo paths. */
export function importsOf(path: string, text = readFileSync(path, 'utf8')): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const specs: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
      specs.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0]!))
      specs.push((node.arguments[0] as ts.StringLiteral).text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(path), s).replace(/\.js$/, '.ts'));
}

/** Every TypeScript file under `src` with its text. */
const tsFiles = (src: string) =>
  sources(src)
    .filter((f) => f.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }));

/** The room of a file under src/ (its top-level folder), or undefined for a file at src/'s top. */
const roomOf = (src: string, file: string): string | undefined => {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
};

/** Every import that goes sideways or up the layers, as "file -> import (room 'a' may not import room 'b')". */
export function layerViolations(src: string, extra: readonly { file: string; text: string }[] = []): string[] {
  const rank = new Map(LAYERS.flatMap((rooms, i) => rooms.map((r) => [r, i] as const)));
  const out: string[] = [];
  const files = [...tsFiles(src), ...extra];
  for (const { file, text } of files) {
    const from = roomOf(src, file);
    for (const target of importsOf(file, text)) {
      const to = roomOf(src, target);
      if (from === undefined || to === undefined || from === to) continue;
      const a = rank.get(from);
      const b = rank.get(to);
      if (a === undefined || b === undefined || b >= a)
        out.push(
          `${relative(src, file)} -> ${relative(src, target)} (room '${from}' may not import room '${to}'${a === undefined || b === undefined ? ': a room not in LAYERS' : ''})`,
        );
    }
  }
  return out;
}

test('the rooms of src/ are in layers: each imports only from the rooms below it', () => {
  const src = join(ROOT, 'src');
  const rooms = readdirSync(src, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  assert.deepEqual(
    rooms.filter((r) => !LAYERS.flat().includes(r)),
    [],
    'every room of src/ has its place in LAYERS',
  );
  assert.deepEqual(layerViolations(src), []);
});

test('the house test fails an import of cli/ from core/, naming the file and the arrow', () => {
  const src = join(ROOT, 'src');
  const probe = { file: join(src, 'core', 'numbers.ts'), text: "import '../cli/main.js';\n" };
  assert.deepEqual(layerViolations(src, [probe]), ["core/numbers.ts -> cli/main.ts (room 'core' may not import room 'cli')"]);
});

test('the docs show the layers as this test holds them', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const line = LAYERS.map((rooms) => rooms.join(', ')).join(' → ');
  assert.ok(doc.includes(line), `docs/architecture.md shows the order: ${line}`);
});

/**
 * The files that import each other in circles: the strongly connected components of more than one file in the
 * graph of `files` and their relative imports (Tarjan's algorithm), each sorted, as paths relative to `src`.
 */
export function importCircles(src: string, files: readonly { file: string; text: string }[]): string[][] {
  const edges = new Map(files.map(({ file, text }) => [file, importsOf(file, text)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      component.push(relative(src, w));
      if (w === v) break;
    }
    if (component.length > 1) circles.push(component.sort());
  };
  for (const file of edges.keys()) if (!index.has(file)) visit(file);
  return circles;
}

test(`at most ${MAX_CIRCLE_FILES} files of src/ import each other in circles, all in one folder`, () => {
  const src = join(ROOT, 'src');
  const circles = importCircles(src, tsFiles(src));
  const files = circles.flat();
  assert.ok(files.length <= MAX_CIRCLE_FILES, `files in import circles: ${circles.map((c) => c.join(' <-> ')).join('; ')}`);
  assert.ok(new Set(files.map((f) => dirname(f))).size <= 1, `import circles span folders: ${files.join(', ')}`);
});

test('the circle check finds a circle of three files and names them', () => {
  const src = join(ROOT, 'src');
  const probe = (name: string, next: string) => ({ file: join(src, 'core', `${name}.ts`), text: `import './${next}.js';\n` });
  const circles = importCircles(src, [probe('a', 'b'), probe('b', 'c'), probe('c', 'a'), probe('d', 'a')]);
  assert.deepEqual(circles, [['core/a.ts', 'core/b.ts', 'core/c.ts']]);
});
