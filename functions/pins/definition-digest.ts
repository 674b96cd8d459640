/**
 * The digest a pin holds: of one listed definition (a tool, a prompt, a resource template) exactly as the server
 * sent it, every field included (`_meta` too), serialised canonically by RFC 8785 (JCS) and hashed with SHA-256:
 *
 *   sha256:<64 lower-case hex digits of SHA-256(UTF-8(JCS(definition)))>
 *
 * JCS: object keys sorted by their UTF-16 code units, no whitespace, strings and numbers written as ECMAScript's
 * JSON.stringify writes them. So the digest does not change with the key order, whitespace or number spelling of the
 * server's JSON, and anyone can recompute it (the recipe is in README and SECURITY).
 *
 * Why every field rather than a chosen few: the gateway passes each definition to the client as it came, so whatever
 * the client sees is covered, a field of a later protocol version included. `_meta` is seen by clients, and hosts act
 * on it (a UI resource to render, status texts shown to the user); a field left out could change unreviewed. On the
 * aggregated endpoint the client sees `<server>_<name>`: the digest is of the server's own definition, unprefixed.
 */
import { createHash } from "node:crypto";

/** The written form of a digest: the algorithm, then the SHA-256 in lower-case hex. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** What a digest must look like, for messages. */
export const DIGEST_RULE = 'a digest is "sha256:" followed by 64 lower-case hex digits';

/** RFC 8785 canonical JSON of a parsed JSON value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as JCS orders keys.
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
}

/** The pin a definition would need: `sha256:<hex>` of its canonical JSON. */
export function definitionDigest(definition: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(definition), "utf8").digest("hex")}`;
}
