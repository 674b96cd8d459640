/** Reads a request body as text, refusing more than the configured limit without buffering it (413). */
import { ProtocolError } from "../errors.js";
import { RpcCode } from "../mcp/jsonrpc.js";

function tooLarge(limit: number): ProtocolError {
  return new ProtocolError(413, RpcCode.InvalidRequest, "Payload too large", `request body larger than ${limit} bytes`);
}

export async function readBodyWithLimit(request: Request, limit: number): Promise<string> {
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
