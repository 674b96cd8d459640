/**
 * Resource URIs are matched as strings, but a backend may normalise them: `docs://public/../internal/roadmap`
 * matches the pattern `docs://public/*` and is served as `docs://internal/roadmap`. A URI with dot segments (`.` or
 * `..`, percent-encoded or not, with `/` or `\` as separator) is therefore never allowed, whatever the policy says.
 */
const DOT_SEGMENT = /(^|[/\\])\.{1,2}([/\\?#]|$)/;

export function hasDotSegment(uri: string): boolean {
  let decoded = uri;
  try {
    decoded = decodeURIComponent(uri);
  } catch {
    // Malformed percent-encoding: the URI is judged as written (a backend that cannot decode it cannot resolve it).
  }
  return DOT_SEGMENT.test(uri) || DOT_SEGMENT.test(decoded);
}
