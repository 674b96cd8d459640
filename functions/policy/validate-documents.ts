/**
 * Reads policy documents the way the gateway will (parse, schema, CEL compilation), for the CLI: a document that
 * passes here is one the gateway accepts.
 */
import { readFile } from "node:fs/promises";
import { compilePolicy, type CompiledPolicy } from "./compile.js";
import { parsePolicyDocument, type NamedPolicyDocument, type PolicySourceText } from "./document.js";

export interface ValidatedPolicy {
  documents: NamedPolicyDocument[];
  policy: CompiledPolicy;
}

/** Parses and compiles texts as one merged policy; throws PolicyError naming the document and place. */
export function validatePolicyTexts(texts: readonly PolicySourceText[]): ValidatedPolicy {
  const documents = texts.map(parsePolicyDocument);
  return { documents, policy: compilePolicy(documents) };
}

export async function readPolicyFiles(paths: readonly string[]): Promise<PolicySourceText[]> {
  return Promise.all(paths.map(async (path) => ({ origin: path, text: await readFile(path, "utf8") })));
}
