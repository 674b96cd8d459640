/** Reads a body whole as UTF-8 text without buffering more than a limit: the gateway judges messages only whole. */

/**
 * The stream's bytes decoded as UTF-8 (invalid sequences become U+FFFD, a leading byte-order mark is dropped), or
 * undefined, with the stream cancelled, as soon as it holds more than `limit` bytes.
 */
export async function readTextWithin(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string | undefined> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
