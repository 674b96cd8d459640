/**
 * The values of `token --claim NAME=VALUE`: JSON when the value looks like JSON, text otherwise. A value that looks
 * like JSON but is not (`roles=[admin]`) is refused with the JSON to write instead, rather than becoming the text
 * `"[admin]"`, which a policy reading `jwt.roles` as a list would silently not match.
 */
import { UsageError } from "./usage-error.js";

/** Starts that only a JSON list, object or string has. */
const JSON_STARTS = ["[", "{", '"'];
/** Exactly JSON's number syntax, and `true`, `false`, `null`. */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;
const JSON_WORDS = ["true", "false", "null"];
/** What someone writing a number might type that JSON does not accept: `01`, `+1`, `1.`, `.5`, `1e`. */
const NUMBER_LIKE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d*)?$/;

/** Wraps a shell argument in single quotes, as the message's example should be typed. */
function shellQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The text with every unquoted word inside it quoted (`[admin, dev]` → `["admin", "dev"]`), when that is valid JSON. */
function withWordsQuoted(text: string): string | undefined {
  const fixed = text.replace(/"(?:[^"\\]|\\.)*"|[^\s[\]{},:"]+/g, (token) =>
    token.startsWith('"') || JSON_WORDS.includes(token) || JSON_NUMBER.test(token) ? token : JSON.stringify(token),
  );
  try {
    JSON.parse(fixed);
    return fixed;
  } catch {
    return undefined;
  }
}

function refusal(name: string, raw: string, problem: string, fixed: string | undefined): UsageError {
  const asJson = fixed === undefined ? "" : `write it as JSON: --claim ${shellQuoted(`${name}=${fixed}`)}, or `;
  return new UsageError(
    `--claim ${name}=${raw}: the value looks like JSON but is not (${problem}); ${asJson}for the text itself write a JSON string: ` +
      `--claim ${shellQuoted(`${name}=${JSON.stringify(raw)}`)}`,
  );
}

/** The claim's value: JSON when VALUE starts as a JSON list, object or string, or is a JSON number or word; else VALUE as text. */
export function parseClaimValue(name: string, raw: string): unknown {
  if (JSON_STARTS.includes(raw.trimStart()[0] ?? "")) {
    try {
      return JSON.parse(raw);
    } catch (err) {
      throw refusal(name, raw, (err as Error).message, withWordsQuoted(raw));
    }
  }
  if (JSON_WORDS.includes(raw) || JSON_NUMBER.test(raw)) return JSON.parse(raw);
  if (NUMBER_LIKE.test(raw)) {
    const number = Number(raw);
    throw refusal(name, raw, "a JSON number has no leading zero, no + sign and digits on both sides of a point", Number.isFinite(number) ? String(number) : undefined);
  }
  return raw;
}
