/**
 * The context keys a deployer may set, and the refusal of any other: a misspelled key (`requiredScope` for
 * `requiredScopes`) would otherwise be ignored without a word, security settings included. CDK's own keys (feature
 * flags `@aws-cdk/...`, `aws:cdk:...`, lookups cached in cdk.context.json, which hold a colon) are left alone.
 */
import { ConfigError } from "../functions/errors.js";
import { DEPLOYMENT_OPTION_KEYS } from "./deployment-options.js";
import { SETTING_KEYS } from "./gateway-settings.js";

export const KNOWN_CONTEXT_KEYS: readonly string[] = [...SETTING_KEYS, ...DEPLOYMENT_OPTION_KEYS, "stackName"];

/** Keys the CDK CLI itself puts into the context of every synth. */
const CDK_OWN_KEYS = new Set(["acknowledged-issue-numbers", "cli-telemetry"]);

function isCdkOwn(key: string): boolean {
  return key.startsWith("@") || key.includes(":") || CDK_OWN_KEYS.has(key);
}

/** Edit distance, case-insensitive: how many letters to add, drop or change to turn one key into the other. */
function distance(a: string, b: string): number {
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

function nearestKnownKey(key: string): string | undefined {
  const ranked = KNOWN_CONTEXT_KEYS.map((known) => ({ known, d: distance(key, known) })).sort((x, y) => x.d - y.d);
  const best = ranked[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.known : undefined;
}

/** Throws ConfigError naming each context key nobody reads, with the known key it most likely meant. */
export function refuseUnknownContextKeys(context: Readonly<Record<string, unknown>>): void {
  const problems = Object.keys(context)
    .filter((key) => !isCdkOwn(key) && !KNOWN_CONTEXT_KEYS.includes(key))
    .map((key) => {
      const nearest = nearestKnownKey(key);
      return `'${key}' is not a setting${nearest ? `: did you mean '${nearest}'?` : ""} (known: ${KNOWN_CONTEXT_KEYS.join(", ")})`;
    });
  if (problems.length > 0) throw new ConfigError([...problems, "(settings come from cdk.json context or -c key=value flags)"]);
}
