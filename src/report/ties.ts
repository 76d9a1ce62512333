// Ties as groups, so that a ranking reads down the table. Overlap of 95% intervals is not transitive (a ~ b and
// b ~ c, yet a is surely faster than c), so per-server "tied with" lists chain into as many overlapping lists as
// there are servers, and a rank counted per server ("one more than those surely faster") can go down the table.
// Instead the servers, in table order, are cut into the fewest runs in which every pair overlaps (greedily from
// the top: a run grows while the next server overlaps every member; for runs of consecutive servers, a property
// that holds for every sub-run, this gives the fewest). Each run is a tie group, and its rank is one more than the
// servers above it, shared by all its members (standard competition ranking: 1=, 1=, 3, 4=, 4=): ranks never
// decrease down the table. Pairs that overlap across a cut (the chains) are counted, so the report can say once
// that a cut between neighbouring groups is where the table was cut, not a proven difference.
import { overlaps, type Interval } from '../core/intervals.js';

export interface TieGroups {
  /** For each interval, in the order given: its group, 1 = the first (fastest) group. */
  group: number[];
  /** For each interval: its group's rank, one more than the intervals in earlier groups. */
  rank: number[];
  /** Members of each group, as indices into the input; groups in order. */
  members: number[][];
  /** Pairs (i, j), i < j, in different groups whose intervals still overlap. */
  chains: [number, number][];
}

/** Groups intervals given in table order (ascending estimate) into the fewest runs of mutually overlapping ones. */
export function tieGroups(intervals: readonly Interval[]): TieGroups {
  const members: number[][] = [];
  for (let i = 0; i < intervals.length; i++) {
    const current = members.at(-1);
    if (current?.every((j) => overlaps(intervals[j]!, intervals[i]!))) current.push(i);
    else members.push([i]);
  }
  const group: number[] = [];
  const rank: number[] = [];
  let above = 0;
  members.forEach((m, g) => {
    for (const i of m) {
      group[i] = g + 1;
      rank[i] = above + 1;
    }
    above += m.length;
  });
  const chains: [number, number][] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      if (group[i] !== group[j] && overlaps(intervals[i]!, intervals[j]!)) chains.push([i, j]);
    }
  }
  return { group, rank, members, chains };
}
