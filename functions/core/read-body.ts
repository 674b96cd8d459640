/**
 * Reads a POST body into JSON-RPC messages: application/json only (415), at most the configured size without
 * buffering more (413), valid JSON-RPC (400 with -32700 or -32600).
 */
import { ProtocolError } from "../errors.js";
import { RpcCode, parseJsonRpcBody, type JsonRpcBody } from "../mcp/jsonrpc.js";

function tooLarge(limit: number): ProtocolError {
  return new ProtocolError(413, RpcCode.InvalidRequest, "Payload too large", `request body larger than ${limit} bytes`);
}

async function readBodyWithLimit(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // Invalid UTF-8 becomes U+FFFD here, and the decoded text is what is judged and forwarded: the same bytes.
  return new TextDecoder().decode(bytes);
}

/**
 * `application/json`, in UTF-8: the body is judged as UTF-8 text, so a backend told another charset (UTF-16,
 * Latin-1) could read other names out of the same bytes.
 */
function isJsonContentType(request: Request): boolean {
  const [type, ...parameters] = (request.headers.get("content-type") ?? "").split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  const charset = parameters.find((parameter) => parameter.startsWith("charset="))?.slice("charset=".length).replace(/^"|"$/g, "");
  return charset === undefined || charset === "utf-8" || charset === "utf8";
}

export interface JsonRpcPost {
  /** The body as judged; exactly this text is forwarded. */
  text: string;
  parsed: JsonRpcBody;
}

export async function readJsonRpcPost(request: Request, limit: number): Promise<JsonRpcPost> {
  if (!isJsonContentType(request)) {
    const type = request.headers.get("content-type") ?? "(none)";
    throw new ProtocolError(415, RpcCode.InvalidRequest, "Unsupported Media Type: the body must be application/json (UTF-8)", `content-type ${type} is not application/json in UTF-8`);
  }
  const text = await readBodyWithLimit(request, limit);
  return { text, parsed: parseJsonRpcBody(text) };
}
