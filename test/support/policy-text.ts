/** Policy documents compiled from YAML text in unit tests, and the refusal of one that must not load. */
import { expect } from "vitest";
import { PolicyError } from "../../functions/errors.js";
import { compilePolicy, type CompiledPolicy } from "../../functions/policy/compile.js";
import { parsePolicyDocument } from "../../functions/policy/document.js";

/** The policy of one document, compiled as the gateway compiles it. */
export function loadPolicyText(text: string, origin = "p.yaml"): CompiledPolicy {
  return compilePolicy([parsePolicyDocument({ origin, text })]);
}

/** The PolicyError message of a document that must be refused (fails the test when it loads). */
export function policyRefusal(text: string, origin = "p.yaml"): string {
  try {
    loadPolicyText(text, origin);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).message;
  }
  throw new Error(`loaded: ${text}`);
}
