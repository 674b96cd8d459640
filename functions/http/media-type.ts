/**
 * Media types as both directions of the gateway read them: parsed with jshttp's `content-type` (the parser express
 * uses), lower-cased, with the charset they name. The gateway reads every body as UTF-8 and writes the media type it
 * forwards itself, without the sender's parameters, so a body's label can never make a program on the path decode
 * the bytes differently from the gateway.
 */
import { parse } from "content-type";

export interface MediaType {
  /** The type and subtype, lower case (`application/json`); empty when the header is empty. */
  type: string;
  /** The `charset` parameter, lower case, when one is given. */
  charset: string | undefined;
  /**
   * `charset` appears more than once in the header. Parsers disagree on which occurrence counts (express 5 reads the
   * first, express 4 the last), so such a label says nothing reliable.
   */
  charsetNamedTwice: boolean;
}

export function parseMediaType(header: string): MediaType {
  const { type, parameters } = parse(header);
  const mentions = header.toLowerCase().split("charset").length - 1;
  return { type, charset: parameters.charset?.toLowerCase(), charsetNamedTwice: mentions > 1 };
}

const UTF8_NAMES: ReadonlySet<string> = new Set(["utf-8", "utf8"]);

/** Whether the label lets the body be read as UTF-8: no charset, or UTF-8 named once. */
export function readsAsUtf8(mediaType: MediaType): boolean {
  return !mediaType.charsetNamedTwice && (mediaType.charset === undefined || UTF8_NAMES.has(mediaType.charset));
}
