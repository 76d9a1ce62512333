// House rules a reader can check by eye, checked here so that they hold: every function in src/ at most 60 lines
// (from its first line to its closing brace, as TypeScript parses it), every toy server under 200 non-blank lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..', '..');
const MAX_FUNCTION_LINES = 60;
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

test(`every toy server is under ${MAX_SERVER_LINES} non-blank lines`, () => {
  const dirs = ['src/servers', 'src/servers/native'].map((d) => join(ROOT, d));
  const servers = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((n) => /\.(ts|c|cc|go)$/.test(n) && !SHARED.has(n))
      .map((n) => join(d, n)),
  );
  const long = servers
    .map((f) => ({
      f,
      lines: readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '').length,
    }))
    .filter(({ lines }) => lines >= MAX_SERVER_LINES)
    .map(({ f, lines }) => `${relative(ROOT, f)}: ${lines}`);
  assert.deepEqual(long, []);
});
