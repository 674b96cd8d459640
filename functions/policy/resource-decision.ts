/**
 * How a resource is judged: what is never allowed first (resource-uri.ts), then the policy, once per reading a
 * backend may make of the URI (resource-readings.ts). It is allowed only when every reading is allowed; the
 * explanation of a refusal names the reading that was refused, so a policy admin sees why `FILE:///secret` was
 * denied although no rule mentions it.
 *
 * Resource templates (`uriTemplate` in `resources/templates/list` results) are judged as written: nobody resolves a
 * template, and WHATWG would percent-encode its `{` and `}`, so that an exact grant of `docs://public/{name}` would
 * never hold. They are still refused for control characters, whitespace, backslashes and dot segments.
 */
import { hasDotSegment, refusedCharacter } from "./resource-uri.js";
import { resourceReadings, type Reading } from "./resource-readings.js";
import type { Decision, PolicyItem } from "./types.js";

/** The policy's decision for one string, judged as an item of its own (every rule, CEL included). */
export type ReadingDecider = (item: PolicyItem) => Decision;

const DOT_SEGMENTS = "a resource URI with dot segments (. or ..) is never allowed: a backend may resolve it elsewhere";

function refusal(explanation: string): Decision {
  return { allowed: false, rule: undefined, explanation };
}

/** What a refusal of a reading other than the URI as sent says: that reading, then why the policy refused it. */
function ofReading(reading: Reading, explanation: string): string {
  return reading.how === "as sent" ? explanation : `as a backend may read it (${reading.how}: ${JSON.stringify(reading.uri)}), ${explanation}`;
}

/** Judges a resource item (`kind: "resource"`) under every reading; `decideReading` is the policy itself. */
export function decideResource(item: PolicyItem, decideReading: ReadingDecider): Decision {
  if (hasDotSegment(item.name)) return refusal(DOT_SEGMENTS);
  const refused = refusedCharacter(item.name);
  if (refused !== undefined) {
    return refusal(`a resource URI with control characters, whitespace or backslashes (${refused}) is never allowed: a backend may read it otherwise`);
  }
  if (item.template === true) return decideReading(item);
  const readings = resourceReadings(item.name);
  // Dot segments in any other reading (`%252e%252e` decoded once), before any rule: refused whatever the policy.
  const dotted = readings.find((reading) => reading.how !== "as sent" && hasDotSegment(reading.uri));
  if (dotted) return refusal(ofReading(dotted, DOT_SEGMENTS));
  let asSent: Decision | undefined;
  for (const reading of readings) {
    const decision = decideReading(reading.uri === item.name ? item : { ...item, name: reading.uri });
    if (!decision.allowed) return { ...decision, explanation: ofReading(reading, decision.explanation) };
    asSent ??= decision;
  }
  // Every reading allowed: the decision reported is the one of the URI as sent, as it was before readings.
  return asSent!;
}
