/**
 * The policy decision: pure, no I/O. Combination follows agentgateway's mcpAuthorization semantics, except that a
 * policy with no rules at all denies everything (agentgateway allows everything; we fail closed):
 *
 * 1. any `deny` rule that holds denies;
 * 2. every `require` rule must hold;
 * 3. any `allow` rule (native grants are allow rules) that holds allows;
 * 4. a policy with deny/require rules but no allow rule allows what they did not stop (a deny-list);
 * 5. otherwise: denied by default.
 *
 * Before any rule: a resource URI with dot segments is denied (see resource-uri.ts).
 *
 * A listed tool has no arguments yet, so a condition on arguments may be "unknown": the tool is listed when some
 * arguments could get it allowed (an allow that may hold, no deny that surely holds, no require that surely fails).
 * Each call is then judged on its real arguments.
 */
import type { CompiledPolicy } from "./compile.js";
import { hasDotSegment } from "./resource-uri.js";
import type { Decision, Identity, PolicyItem } from "./types.js";

export function decide(policy: CompiledPolicy, identity: Identity, item: PolicyItem): Decision {
  if (item.kind === "resource" && hasDotSegment(item.name)) {
    return { allowed: false, rule: undefined, explanation: "a resource URI with dot segments (. or ..) is never allowed: a backend may resolve it elsewhere" };
  }
  if (policy.rules.length === 0) {
    return { allowed: false, rule: undefined, explanation: "the policy has no rules, so nothing is allowed" };
  }
  let hasAllowRule = false;
  for (const rule of policy.rules) {
    if (rule.effect === "deny" && rule.holds(identity, item) === true) {
      return { allowed: false, rule: rule.origin, explanation: `denied by ${rule.origin}` };
    }
    if (rule.effect === "require" && rule.holds(identity, item) === false) {
      return { allowed: false, rule: rule.origin, explanation: `required condition ${rule.origin} does not hold` };
    }
    if (rule.effect === "allow") hasAllowRule = true;
  }
  if (!hasAllowRule) {
    return { allowed: true, rule: undefined, explanation: "no deny or require rule stopped it, and the policy has no allow rules" };
  }
  const allowing = policy.rules.find((rule) => rule.effect === "allow" && rule.holds(identity, item) !== false);
  if (allowing) return { allowed: true, rule: allowing.origin, explanation: `allowed by ${allowing.origin}` };
  return { allowed: false, rule: undefined, explanation: "no rule allows it (default deny)" };
}
