/**
 * The context keys a deployer may set, and the refusal of any other: a misspelled key (`requiredScope` for
 * `requiredScopes`) would otherwise be ignored without a word, security settings included. CDK's own keys (feature
 * flags `@aws-cdk/...`, `aws:cdk:...`, lookups cached in cdk.context.json, which hold a colon) are left alone.
 */
import { nearestName } from "../functions/config/nearest-name.js";
import { ConfigError } from "../functions/errors.js";
import { DEPLOYMENT_OPTION_KEYS } from "./deployment-options.js";
import { SETTING_KEYS } from "./gateway-settings.js";

export const KNOWN_CONTEXT_KEYS: readonly string[] = [...SETTING_KEYS, ...DEPLOYMENT_OPTION_KEYS, "stackName"];

/** Keys the CDK CLI itself puts into the context of every synth. */
const CDK_OWN_KEYS = new Set(["acknowledged-issue-numbers", "cli-telemetry"]);

function isCdkOwn(key: string): boolean {
  return key.startsWith("@") || key.includes(":") || CDK_OWN_KEYS.has(key);
}

/** Throws ConfigError naming each context key nobody reads, with the known key it most likely meant. */
export function refuseUnknownContextKeys(context: Readonly<Record<string, unknown>>): void {
  const problems = Object.keys(context)
    .filter((key) => !isCdkOwn(key) && !KNOWN_CONTEXT_KEYS.includes(key))
    .map((key) => {
      const nearest = nearestName(key, KNOWN_CONTEXT_KEYS, Math.max(2, Math.floor(key.length / 3)));
      return `'${key}' is not a setting${nearest ? `: did you mean '${nearest}'?` : ""} (known: ${KNOWN_CONTEXT_KEYS.join(", ")})`;
    });
  if (problems.length > 0) throw new ConfigError([...problems, "(settings come from cdk.json context or -c key=value flags)"]);
}
