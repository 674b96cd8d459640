/**
 * The known name a mistyped one most likely meant, for messages that refuse or warn of a setting nobody reads
 * (`POLICY_CACHE_SECOND`, `-c requiredScope`): the fewest single-character edits, letter case ignored.
 */

/** How many single-character edits (insert, delete, replace) turn `a` into `b`, letter case ignored. */
export function editDistance(a: string, b: string): number {
  const [s, t] = [a.toLowerCase(), b.toLowerCase()];
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (s[i - 1] === t[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[t.length] ?? 0;
}

/** The closest of `known` to `name`, when it is at most `maxEdits` away; undefined otherwise. */
export function nearestName(name: string, known: readonly string[], maxEdits: number): string | undefined {
  const [closest] = known.map((candidate) => ({ candidate, edits: editDistance(name, candidate) })).sort((x, y) => x.edits - y.edits);
  return closest && closest.edits <= maxEdits ? closest.candidate : undefined;
}
