/**
 * MCP 2026-07-28 mirrors the method and the item name of a request into `Mcp-Method` and `Mcp-Name` headers, so load
 * balancers and proxies can route without reading the body. The gateway judges the body, never these headers; but a
 * header that disagrees with the body would let the backend, or anything behind the gateway that trusts the header,
 * act on something the gateway did not judge. So when the headers are sent they must say exactly what the body
 * says, or the request is refused with 400 and JSON-RPC -32020 (HeaderMismatch), as the spec requires of servers.
 *
 * Their absence is the backend's to judge (older protocol versions have none): the gateway forwards only headers
 * that agree with what it authorized.
 */
import { ProtocolError } from "../errors.js";
import type { JsonRpcBody } from "./jsonrpc.js";

export const HEADER_MISMATCH = -32020;

/** Which body field `Mcp-Name` mirrors, per method (SEP-2243, and SEP-2663 for tasks). */
const NAME_SOURCE: ReadonlyMap<string, string> = new Map([
  ["tools/call", "name"],
  ["prompts/get", "name"],
  ["resources/read", "uri"],
  ["tasks/get", "taskId"],
  ["tasks/update", "taskId"],
  ["tasks/cancel", "taskId"],
]);

const SENTINEL_PREFIX = "=?base64?";
const SENTINEL_SUFFIX = "?=";
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A header value as the client meant it: names that are not plain printable ASCII travel as `=?base64?...?=`.
 * Undefined when the sentinel holds no valid Base64 of UTF-8.
 */
export function decodeHeaderValue(value: string): string | undefined {
  const trimmed = withoutSurroundingSpace(value);
  if (!trimmed.startsWith(SENTINEL_PREFIX) || !trimmed.endsWith(SENTINEL_SUFFIX)) return trimmed;
  const encoded = trimmed.slice(SENTINEL_PREFIX.length, trimmed.length - SENTINEL_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(encoded, "base64"));
  } catch {
    return undefined;
  }
}

/** RFC 9110 optional whitespace around a field value is not part of it. */
function withoutSurroundingSpace(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, "");
}

function mismatch(reason: string): ProtocolError {
  return new ProtocolError(400, HEADER_MISMATCH, "Bad Request: the Mcp-Method or Mcp-Name header does not match the body", reason);
}

/** The name a message's body gives for `Mcp-Name`, if its method has one. */
function bodyName(method: string | undefined, params: unknown): string | undefined {
  const field = method === undefined ? undefined : NAME_SOURCE.get(method);
  if (field === undefined || typeof params !== "object" || params === null) return undefined;
  const value = (params as Record<string, unknown>)[field];
  return typeof value === "string" ? value : undefined;
}

/**
 * Throws ProtocolError (400, -32020) when `Mcp-Method` or `Mcp-Name` is present and disagrees with the body.
 * @param body the parsed POST body; undefined for requests without one (GET, DELETE), where neither header belongs.
 */
export function checkRoutingHeaders(headers: Headers, body: JsonRpcBody | undefined): void {
  const methodHeader = headers.get("mcp-method");
  const nameHeader = headers.get("mcp-name");
  if (methodHeader === null && nameHeader === null) return;
  const [message] = body?.messages ?? [];
  if (!body || !message) throw mismatch("Mcp-Method or Mcp-Name header on a request without a body");
  if (body.batch) throw mismatch("Mcp-Method or Mcp-Name header on a batch, which has no single method");
  // Method names are plain ASCII: the header is compared as sent, never decoded.
  if (methodHeader !== null && withoutSurroundingSpace(methodHeader) !== message.method) {
    throw mismatch(`Mcp-Method header ${JSON.stringify(methodHeader)} but the body's method is ${JSON.stringify(message.method ?? null)}`);
  }
  if (nameHeader === null) return;
  const decoded = decodeHeaderValue(nameHeader);
  if (decoded === undefined) throw mismatch("Mcp-Name header holds invalid Base64");
  const name = bodyName(message.method, message.params);
  if (decoded !== name) {
    throw mismatch(`Mcp-Name header ${JSON.stringify(decoded)} but the body names ${JSON.stringify(name ?? null)}`);
  }
}

/** Header names of `Mcp-Param-*` (lower case, as Headers gives them). */
const PARAM_HEADER_PREFIX = "mcp-param-";
const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The primitive values of a tool call's arguments reachable through object properties, where x-mcp-header may be. */
function argumentValues(value: unknown, found: Array<string | number | boolean> = []): Array<string | number | boolean> {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") found.push(value);
  else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const child of Object.values(value)) argumentValues(child, found);
  }
  return found;
}

function mirrors(decoded: string, value: string | number | boolean): boolean {
  if (typeof value === "number") return DECIMAL.test(decoded) && Number(decoded) === value;
  return decoded === String(value);
}

/**
 * `Mcp-Param-{Name}` headers (2026-07-28) mirror tool arguments that the tool's input schema marks with
 * `x-mcp-header`. Which argument each one mirrors is written in that schema, which the gateway does not keep; the
 * backend checks the pairing against it (the v2 SDK does, before dispatch). The gateway makes sure no such header says
 * anything the body it judged does not: they may come only with a single `tools/call`, and each must decode to the
 * value of one of its arguments (a string, number or boolean reached through object properties). Otherwise 400, -32020.
 * @returns the headers checked, as sent: what is forwarded to the backend, and nothing else of their kind.
 */
export function checkParamHeaders(headers: Headers, body: JsonRpcBody | undefined): Array<readonly [string, string]> {
  const params: Array<readonly [string, string]> = [];
  headers.forEach((value, name) => {
    if (name.startsWith(PARAM_HEADER_PREFIX)) params.push([name, value]);
  });
  if (params.length === 0) return params;
  const message = body && !body.batch ? body.messages[0] : undefined;
  if (message?.method !== "tools/call") throw paramMismatch("Mcp-Param-* header on a request that is not a single tools/call");
  const args = (message.params as { arguments?: unknown } | undefined)?.arguments;
  const values = argumentValues(args);
  for (const [name, value] of params) {
    const decoded = decodeHeaderValue(value);
    if (decoded === undefined) throw paramMismatch(`${name} header holds invalid Base64`);
    if (!values.some((candidate) => mirrors(decoded, candidate))) {
      throw paramMismatch(`${name} header ${JSON.stringify(decoded)} matches none of the call's arguments`);
    }
  }
  return params;
}

function paramMismatch(reason: string): ProtocolError {
  return new ProtocolError(400, HEADER_MISMATCH, "Bad Request: an Mcp-Param header does not match the body", reason);
}
