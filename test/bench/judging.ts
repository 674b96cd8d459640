/**
 * The generated policies as the gateway loads them (PolicyStore over the file source), and the bench caller judged
 * by one: what the scale and SSE benchmarks filter lists with.
 */
import { identityFromClaims } from "../../functions/auth/identity.js";
import { createJudge } from "../../functions/core/judge.js";
import type { ItemPredicate } from "../../functions/mcp/list-filter.js";
import { PolicyStore } from "../../functions/policy/policy-store.js";
import type { CompiledPolicy } from "../../functions/policy/compile.js";
import { createPolicySource } from "../../functions/policy/sources.js";
import { BENCH_ROLES, BENCH_SUBJECT } from "./fixtures.js";

const SILENT = { info() {}, warn() {}, error() {} };

export async function loadPolicyFile(path: string): Promise<CompiledPolicy> {
  const store = new PolicyStore(createPolicySource({ kind: "file", path }), { cacheSeconds: 60, logger: SILENT });
  const policy = await store.current();
  if (!policy) throw new Error(`the generated policy ${path} did not load`);
  return policy;
}

const benchIdentity = identityFromClaims({ iss: "bench", sub: BENCH_SUBJECT, roles: BENCH_ROLES }, "roles");

/** What the bench caller may see under `policy`, with a judge built for one request, as the gateway builds it. */
export function benchCallerAllows(policy: CompiledPolicy): ItemPredicate {
  const judge = createJudge(policy, benchIdentity, false);
  return (item) => judge(item).allowed;
}
