/**
 * Reads a POST body into JSON-RPC messages: application/json in UTF-8 without a content coding only (415), at most
 * the configured size without buffering more (413), valid JSON-RPC nested no deeper than MAX_JSON_DEPTH (400 with
 * -32700 or -32600).
 */
import { ProtocolError } from "../errors.js";
import { readTextWithin } from "../http/bounded-text.js";
import { parseMediaType, readsAsUtf8 } from "../http/media-type.js";
import { RpcCode, parseJsonRpcBody, type JsonRpcBody } from "../mcp/jsonrpc.js";

function tooLarge(limit: number): ProtocolError {
  return new ProtocolError(413, RpcCode.InvalidRequest, "Payload too large", `request body larger than ${limit} bytes`);
}

async function readBodyWithLimit(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  // Invalid UTF-8 becomes U+FFFD here, and the decoded text is what is judged and forwarded: the same bytes.
  const text = await readTextWithin(request.body, limit);
  if (text === undefined) throw tooLarge(limit);
  return text;
}

/**
 * Why the request's body cannot be read as UTF-8 JSON, or undefined when it can. The gateway decodes every body as
 * UTF-8 and forwards it labelled `application/json` in its own words, so nothing behind it decodes the bytes another
 * way; a client that names another charset (in any spelling a media-type parser accepts: spaces or tabs around `=`,
 * quoted, upper case) or a content coding meant something else by them, and is told so rather than misread. A charset
 * named twice is refused whatever the values: parsers disagree on which one counts (express 5 reads the first,
 * express 4 the last).
 */
function unreadableBodyReason(headers: Headers): string | undefined {
  const contentType = headers.get("content-type");
  if (contentType === null) return "no content-type";
  const mediaType = parseMediaType(contentType);
  if (mediaType.type !== "application/json") return `content-type ${contentType} is not application/json`;
  if (!readsAsUtf8(mediaType)) return `content-type ${contentType} does not read as UTF-8 (one charset, utf-8, or none)`;
  const coding = headers.get("content-encoding");
  if (coding !== null && coding.trim().toLowerCase() !== "identity") return `content-encoding ${coding} is not accepted (bodies are read as sent)`;
  return undefined;
}

export interface JsonRpcPost {
  /**
   * The text forwarded to the backend: the body as judged, or, when it names a key twice, the judged messages
   * re-serialised, so a backend whose parser keeps the first of two keys reads what the gateway read.
   */
  text: string;
  parsed: JsonRpcBody;
}

export async function readJsonRpcPost(request: Request, limit: number): Promise<JsonRpcPost> {
  const unreadable = unreadableBodyReason(request.headers);
  if (unreadable !== undefined) {
    throw new ProtocolError(415, RpcCode.InvalidRequest, "Unsupported Media Type: the body must be application/json in UTF-8, without a content coding", unreadable);
  }
  const text = await readBodyWithLimit(request, limit);
  const parsed = parseJsonRpcBody(text);
  return { text: parsed.duplicateKeys ? JSON.stringify(parsed.batch ? parsed.messages : parsed.messages[0]) : text, parsed };
}
