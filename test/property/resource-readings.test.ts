/**
 * Property: whatever the spelling of a resource URI and whatever the resource grants and deny rules, a
 * `resources/read` the gateway lets reach the backend is one every reading of the URI allows: as sent,
 * WHATWG-normalised (`new URL(uri).href`, how the MCP SDK servers look resources up), percent-decoded, and the two
 * in either order. In particular its WHATWG reading is inside a grant, and no deny rule holds for it.
 *
 * Spellings are made from a few real URIs by the tricks that move a URI somewhere a string match does not see: case
 * of scheme and host, `file://localhost/`, `file:/`, default ports, percent-encoding (single and double, any
 * character, dots included), dot segments (plain, encoded, split by a tab), control characters, whitespace and
 * backslashes anywhere. The oracle knows nothing of the gateway's code: the README's readings and refusals as the
 * test oracle writes them (support/arbitraries.ts: its own percent-decoder, its own list of refused characters), the
 * test glob matcher, and plain JavaScript for the deny rules.
 *
 * The gateway runs in process from its real configuration and policy file, in front of a lenient backend that
 * executes every read it receives (test/property/support/scripted-backend.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globMatches, hasDotSegment, hasRefusedUriCharacter, uriReadings, type RolesClaim } from "./support/arbitraries.js";
import { usePropertyGateway } from "./support/property-gateway.js";

const RUNS = 400;

// ---------------------------------------------------------------------------------------------------------------
// Policies: resource grants and deny rules on URIs
// ---------------------------------------------------------------------------------------------------------------

/** Grants: some of the canonical form, some that also match spellings a backend reads otherwise (`*`, `FILE:///*`). */
const GRANTS = [
  "file:///public/*",
  "file:///public/a",
  "file:///*",
  "docs://public/*",
  "docs://public/readme",
  "https://example.com/docs/*",
  "*",
  "FILE:///*",
  "file://localhost/*",
  "*public*",
];

/** Deny rules, in CEL and as the oracle evaluates them. */
const DENIES: ReadonlyArray<{ cel: string; holds: (uri: string) => boolean }> = [
  { cel: 'mcp.resource.uri.startsWith("file:///secret")', holds: (uri) => uri.startsWith("file:///secret") },
  { cel: 'mcp.resource.uri.startsWith("docs://internal/")', holds: (uri) => uri.startsWith("docs://internal/") },
  { cel: 'mcp.resource.uri.contains("/admin")', holds: (uri) => uri.includes("/admin") },
  { cel: 'mcp.resource.uri == "file:///public/b"', holds: (uri) => uri === "file:///public/b" },
  // Readings that only percent-decoding makes (`a%20b` decoded), and only WHATWG then decoding (`FILE:` lower-cased,
  // then `caf%C3%A9` decoded, as `fileURLToPath(new URL(uri))` reads it).
  { cel: 'mcp.resource.uri.endsWith("a b")', holds: (uri) => uri.endsWith("a b") },
  { cel: 'mcp.resource.uri.startsWith("file:///public/caf\u00e9")', holds: (uri) => uri.startsWith("file:///public/caf\u00e9") },
];

interface PolicyModel {
  grants: string[];
  denies: number[];
}

/** Half the policies grant everything and stop what they must with deny rules: the policies a spelling can evade. */
const policyArb: fc.Arbitrary<PolicyModel> = fc.oneof(
  fc.record({
    grants: fc.uniqueArray(fc.constantFrom(...GRANTS), { minLength: 1, maxLength: 3 }),
    denies: fc.uniqueArray(fc.nat({ max: DENIES.length - 1 }), { maxLength: 3 }),
  }),
  fc.record({
    grants: fc.constant<string[]>(["*"]),
    denies: fc.uniqueArray(fc.nat({ max: DENIES.length - 1 }), { minLength: 1, maxLength: 3 }),
  }),
);

function renderPolicy(model: PolicyModel): string {
  const grants = model.grants.map((pattern) => `  ${JSON.stringify(pattern)}: [employee]`);
  const denies = model.denies.map((index) => `- deny: ${JSON.stringify(DENIES[index]!.cel)}`);
  return ["resources:", ...grants, ...(denies.length > 0 ? ["rules:", ...denies] : [])].join("\n");
}

const CALLER: RolesClaim = { form: "list", roles: ["employee"], junk: false };

// ---------------------------------------------------------------------------------------------------------------
// URI spellings
// ---------------------------------------------------------------------------------------------------------------

const BASES = [
  "file:///public/a",
  "file:///public/b",
  "file:///secret",
  "file:///secret/key",
  "docs://public/readme",
  "docs://internal/roadmap",
  "https://example.com/docs/a",
  "https://example.com/admin/x",
  "file:///public/a%20b",
  "file:///public/caf%C3%A9",
  "file:///public/%252e%252e/a",
];

const REFUSED_SAMPLES = ["\t", "\r", "\n", " ", "\u0000", "\u007f", "\u0085", "\u00a0", "\u2028", "\u3000", "\\"];

const encode = (ch: string, upper: boolean) => {
  const hex = Array.from(Buffer.from(ch, "utf8"), (byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
  return upper ? hex.toUpperCase() : hex;
};

type Trick = (uri: string, at: number, pick: number) => string;

/** Each trick changes the URI at a position (`at`, taken modulo its length) or by a choice (`pick`). */
const TRICKS: readonly Trick[] = [
  (uri) => uri.replace(/^[a-z]+/, (scheme) => scheme.toUpperCase()),
  (uri) => uri.replace(/^[a-z]/, (first) => first.toUpperCase()),
  (uri) => uri.replace(/^([a-z]+:\/\/)([^/]+)/i, (_, scheme: string, host: string) => scheme + host.toUpperCase()),
  (uri, _, pick) => uri.replace(/^file:\/\/\//i, ["file://localhost/", "file://LOCALHOST/", "file:/", "file:", "FILE://localhost/"][pick % 5]!),
  (uri) => uri.replace(/^https:\/\/example\.com/, "https://example.com:443"),
  (uri, at, pick) => {
    const chars = Array.from(uri);
    const i = at % Math.max(chars.length, 1);
    return chars.slice(0, i).join("") + encode(chars[i] ?? "", pick % 2 === 0) + chars.slice(i + 1).join("");
  },
  (uri) => uri.replace(/%/, "%25"),
  (uri, _, pick) => uri.replace(/\/(public|docs)\//, `/$1/${["..", "%2e%2e", ".%2E", "%2E.", ".\t.", "%2e\t%2e", "%252e%252e", "."][pick % 8]}/`),
  (uri, _, pick) => uri.replace(/\/(public|docs)\/[a-z]+$/, (whole) => `${whole}/${["..", "%2e%2e", ".\n."][pick % 3]}/../secret`),
  (uri, at, pick) => {
    const i = at % (uri.length + 1);
    return uri.slice(0, i) + REFUSED_SAMPLES[pick % REFUSED_SAMPLES.length]! + uri.slice(i);
  },
  (uri, at) => {
    const slashes = [...uri.matchAll(/\//g)].map((m) => m.index);
    const i = slashes[at % Math.max(slashes.length, 1)];
    return i === undefined ? uri : `${uri.slice(0, i)}\\${uri.slice(i + 1)}`;
  },
  (uri, _, pick) => `${uri}${["?q=1", "#top", "?", "#"][pick % 4]}`,
];

/**
 * The tricks that keep a URI allowed as sent but move it elsewhere (case, `localhost`, escapes) more often than those
 * refused whatever the policy (dot segments, refused characters), so that both kinds of case are common.
 */
const TRICK_WEIGHTS = [3, 2, 3, 4, 1, 4, 2, 1, 1, 1, 1, 1];
const trickArb = fc.oneof(...TRICK_WEIGHTS.map((weight, index) => ({ weight, arbitrary: fc.constant(index) })));

const uriArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...BASES), fc.array(fc.tuple(trickArb, fc.nat(), fc.nat()), { maxLength: 3 }))
  .map(([base, tricks]) => tricks.reduce((uri, [trick, at, pick]) => TRICKS[trick]!(uri, at, pick), base));

// ---------------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------------

function readingAllowed(policy: PolicyModel, reading: string): boolean {
  return !hasDotSegment(reading) && policy.grants.some((pattern) => globMatches(pattern, reading)) && !policy.denies.some((index) => DENIES[index]!.holds(reading));
}

// ---------------------------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------------------------

const world = usePropertyGateway();

async function readThroughGateway(uri: string): Promise<{ executed: boolean; error?: { code: number } }> {
  world.backend.reset();
  const response = await world.gateway.fetch(
    new Request("http://gateway.test/mcp", {
      method: "POST",
      headers: { authorization: `Bearer ${await world.tokenFor(CALLER)}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri } }),
    }),
  );
  const answer = (await response.json()) as { error?: { code: number } };
  const executed = world.backend.executed.some((execution) => execution.kind === "resource");
  return { executed, ...(answer.error ? { error: answer.error } : {}) };
}

describe("resources/read through the gateway, for any spelling of the URI", () => {
  it("reaches the backend only when every reading of the URI is allowed, its WHATWG reading inside a grant", async () => {
    const outcomes = { allowed: 0, refused: 0, allowedAsSentOnly: 0 };
    await fc.assert(
      fc.asyncProperty(policyArb, uriArb, async (policy, uri) => {
        await world.usePolicy(renderPolicy(policy));
        const { executed, error } = await readThroughGateway(uri);
        const asSentAllowed = readingAllowed(policy, uri) && !hasRefusedUriCharacter(uri);
        if (!executed) {
          outcomes.refused++;
          expect(error?.code).toBe(-32602);
          if (asSentAllowed) outcomes.allowedAsSentOnly++;
          // Not too strict either: a URI every backend reads the same way, and the policy allows, passes.
          if (asSentAllowed && uriReadings(uri).every((reading) => reading === uri)) expect.unreachable(`${uri} was refused, but all its readings are itself and allowed`);
          return;
        }
        outcomes.allowed++;
        expect(hasRefusedUriCharacter(uri)).toBe(false);
        for (const reading of uriReadings(uri)) expect(readingAllowed(policy, reading), `reading ${JSON.stringify(reading)} of ${JSON.stringify(uri)}`).toBe(true);
        const normalised = URL.canParse(uri) ? new URL(uri).href : undefined;
        if (normalised !== undefined) expect(policy.grants.some((pattern) => globMatches(pattern, normalised))).toBe(true);
      }),
      { numRuns: RUNS },
    );
    // The property means something only if both outcomes occur, and if spellings a string match would have let
    // through (allowed as sent, refused under another reading) are among them.
    expect(outcomes.allowed).toBeGreaterThan(RUNS / 20);
    expect(outcomes.refused).toBeGreaterThan(RUNS / 20);
    expect(outcomes.allowedAsSentOnly).toBeGreaterThan(RUNS / 40);
  });
});
