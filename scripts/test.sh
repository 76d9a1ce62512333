#!/usr/bin/env bash
# `npm test` after the build: the suite in two lanes, then its end.
#   side by side: most files, three at a time. They mostly wait (on servers' idle clocks, on agents, on children),
#     and each looks for what it left behind among its own processes only (test/helpers/processes.ts).
#   alone: the files whose first lines say `// suite: alone`, one at a time, after the others: those that measure
#     time or speed (a busy machine would change their answer), and those that look at the whole machine (network
#     namespaces, leftovers of killed runs that any run removes).
#   last: test/zz-suite-end.test.ts, which lists the skips and fails on any process of the suite still running.
# Every process of the suite carries EVENTBENCH_TEST_SUITE (zz-suite-end looks for it). Extra arguments go to each
# `node --test` (say --test-reporter=tap). The exit status is non-zero if any lane failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export EVENTBENCH_TEST_SUITE=$$
SIDE_BY_SIDE=3

together=()
alone=()
for file in dist/test/*.test.js; do
  case "$file" in
    */zz-suite-end.test.js) ;;
    *) if grep -q '^// suite: alone' "$file"; then alone+=("$file"); else together+=("$file"); fi ;;
  esac
done

status=0
node --test --test-concurrency="$SIDE_BY_SIDE" "$@" "${together[@]}" || status=1
node --test --test-concurrency=1 "$@" "${alone[@]}" || status=1
node --test "$@" dist/test/zz-suite-end.test.js || status=1
exit "$status"
