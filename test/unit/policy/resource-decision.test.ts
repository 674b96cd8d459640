/**
 * Resources judged as a backend will resolve them (functions/policy/resource-decision.ts, through decide()): what is
 * refused whatever the policy, every reading of the URI judged by the whole policy, the reading named when one is
 * refused, templates judged as written, and the policy evaluated once for a URI whose readings are all the same.
 */
import { describe, expect, it } from "vitest";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import { compilePolicy, type CompiledPolicy } from "../../../functions/policy/compile.js";
import { decide } from "../../../functions/policy/decide.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import { decideResource } from "../../../functions/policy/resource-decision.js";
import type { Decision, PolicyItem } from "../../../functions/policy/types.js";

function policy(text: string): CompiledPolicy {
  return compilePolicy([parsePolicyDocument({ origin: "a.yaml", text })]);
}
const anyone = identityFromClaims({ sub: "emma", roles: ["employee"] }, "roles");
const resource = (name: string): PolicyItem => ({ kind: "resource", name });
const template = (name: string): PolicyItem => ({ kind: "resource", name, template: true });

const ALLOW_ALL = policy("rules:\n- 'true'");
const PUBLIC_GRANT = policy('resources:\n  "file:///public/*": [employee]');
const SECRET_DENIED = policy(`resources:\n  "*": [employee]\nrules:\n- deny: 'mcp.resource.uri.startsWith("file:///secret")'`);

describe("refused whatever the policy", () => {
  it.each([
    ["tab", "file:///public/.\t./secret", "U+0009"],
    ["CR", "file:///public/.\r./secret", "U+000D"],
    ["LF", "file:///public/.\n./secret", "U+000A"],
    ["NUL", "file:///public/a\u0000", "U+0000"],
    ["DEL", "file:///public/a\u007f", "U+007F"],
    ["C1 (NEL)", "file:///public/a\u0085", "U+0085"],
    ["C1 (U+0080)", "file:///public/a\u0080", "U+0080"],
    ["space", "file:///public/a b", "U+0020"],
    ["leading space", " file:///public/a", "U+0020"],
    ["no-break space", "file:///public/a\u00a0", "U+00A0"],
    ["line separator", "file:///public/a\u2028", "U+2028"],
    ["ideographic space", "file:///public/a\u3000", "U+3000"],
    ["vertical tab", "file:///public/a\u000b", "U+000B"],
    ["backslash", "file:///public\\a", "U+005C"],
  ])("a URI with a %s", (_, uri, code) => {
    for (const p of [ALLOW_ALL, PUBLIC_GRANT, SECRET_DENIED]) {
      expect(decide(p, anyone, resource(uri))).toEqual({
        allowed: false,
        rule: undefined,
        explanation: expect.stringContaining(`control characters, whitespace or backslashes (${code} at offset`),
      });
    }
  });

  it("names where the character is", () => {
    expect(decide(ALLOW_ALL, anyone, resource("file:///public/.\t./secret")).explanation).toContain("(U+0009 at offset 16)");
  });

  it("a URI with dot segments in any reading (double-encoded: one decoding away)", () => {
    expect(decide(ALLOW_ALL, anyone, resource("file:///public/%252e%252e/secret"))).toEqual({
      allowed: false,
      rule: undefined,
      explanation: 'as a backend may read it (percent-decoded: "file:///public/%2e%2e/secret"), a resource URI with dot segments (. or ..) is never allowed: a backend may resolve it elsewhere',
    });
    expect(decide(ALLOW_ALL, anyone, resource("file:///public/%2e%2e/secret")).explanation).toMatch(/^a resource URI with dot segments/);
  });

  it("a URI with encoded dot segments and a malformed escape elsewhere (lenient decoders decode the rest)", () => {
    expect(decide(ALLOW_ALL, anyone, resource("file:///public/%2e%2e/secret%zz")).explanation).toMatch(/^a resource URI with dot segments/);
    expect(decide(ALLOW_ALL, anyone, resource("file:///public/%2e%2e/secret%E9")).explanation).toMatch(/^a resource URI with dot segments/);
  });

  it("does not refuse characters that are not whitespace (zero-width space, soft hyphen): they are judged as they are", () => {
    expect(decide(ALLOW_ALL, anyone, resource("file:///public/a\u200b")).allowed).toBe(true);
    expect(decide(ALLOW_ALL, anyone, resource("file:///public/a\u00ad")).allowed).toBe(true);
  });
});

describe("every reading judged by the whole policy", () => {
  it.each([
    ["FILE:///secret", "WHATWG-normalised", "file:///secret"],
    ["File:///secret", "WHATWG-normalised", "file:///secret"],
    ["file://LOCALHOST/secret", "WHATWG-normalised", "file:///secret"],
    ["file://localhost/secret", "WHATWG-normalised", "file:///secret"],
    ["file:/secret", "WHATWG-normalised", "file:///secret"],
    ["file:secret", "WHATWG-normalised", "file:///secret"],
    ["file:///%73ecret", "percent-decoded", "file:///secret"],
    ["FILE:///secre%74", "percent-decoded, then WHATWG-normalised", "file:///secret"],
  ])("a CEL deny on the URI's prefix holds for %j, read %s", (uri, how, read) => {
    expect(decide(SECRET_DENIED, anyone, resource(uri))).toEqual({
      allowed: false,
      rule: "a.yaml rules[0]",
      explanation: `as a backend may read it (${how}: ${JSON.stringify(read)}), denied by a.yaml rules[0]`,
    });
  });

  it("judges the reading of a backend that parses, then decodes (fileURLToPath(new URL(uri)))", () => {
    const deny = policy(`resources:\n  "*": [employee]\nrules:\n- deny: 'mcp.resource.uri == "file:///caf\u00e9"'`);
    expect(decide(deny, anyone, resource("FILE:///caf%C3%A9"))).toEqual({
      allowed: false,
      rule: "a.yaml rules[0]",
      explanation: 'as a backend may read it (WHATWG-normalised, then percent-decoded: "file:///caf\u00e9"), denied by a.yaml rules[0]',
    });
  });

  it("refuses a spelling that is granted as sent but not once read as a backend reads it", () => {
    const granted = policy('resources:\n  "FILE:///*": [employee]\n  "file:///public/*": [employee]');
    expect(decide(granted, anyone, resource("FILE:///secret"))).toEqual({
      allowed: false,
      rule: undefined,
      explanation: 'as a backend may read it (WHATWG-normalised: "file:///secret"), no rule allows it (default deny)',
    });
    expect(decide(granted, anyone, resource("FILE:///public/a")).allowed).toBe(true);
  });

  it("allows a URI whose every reading is allowed, with the decision of the URI as sent", () => {
    expect(decide(PUBLIC_GRANT, anyone, resource("file:///public/a"))).toEqual({
      allowed: true,
      rule: "a.yaml resources.file:///public/*",
      explanation: "allowed by a.yaml resources.file:///public/*",
    });
    expect(decide(PUBLIC_GRANT, anyone, resource("file:///public/a%20b")).allowed).toBe(true);
    expect(decide(PUBLIC_GRANT, anyone, resource("file:///public/caf\u00e9")).allowed).toBe(true);
  });

  it("judges a URI as sent first: a refusal of it reads as it always did", () => {
    expect(decide(PUBLIC_GRANT, anyone, resource("file://localhost/public/a"))).toEqual({
      allowed: false,
      rule: undefined,
      explanation: "no rule allows it (default deny)",
    });
  });

  it("needs an exact grant of a URI in the form backends read it too (WHATWG encodes what is not ASCII)", () => {
    const exact = policy('resources:\n  "docs://public/caf\u00e9": [employee]');
    expect(decide(exact, anyone, resource("docs://public/caf\u00e9"))).toMatchObject({
      allowed: false,
      explanation: 'as a backend may read it (WHATWG-normalised: "docs://public/caf%C3%A9"), no rule allows it (default deny)',
    });
    const both = policy('resources:\n  "docs://public/caf\u00e9": [employee]\n  "docs://public/caf%C3%A9": [employee]');
    expect(decide(both, anyone, resource("docs://public/caf\u00e9")).allowed).toBe(true);
  });

  it("evaluates the policy once for a URI whose readings are all the same, and once per distinct reading otherwise", () => {
    const judged: string[] = [];
    const allowEverything = (item: PolicyItem): Decision => {
      judged.push(item.name);
      return { allowed: true, rule: undefined, explanation: "allowed" };
    };
    decideResource(resource("file:///public/a"), allowEverything);
    expect(judged).toEqual(["file:///public/a"]);
    judged.length = 0;
    decideResource(resource("FILE:///secre%74"), allowEverything);
    expect(judged).toEqual(["FILE:///secre%74", "file:///secre%74", "FILE:///secret", "file:///secret"]);
  });
});

describe("resource templates: judged as written", () => {
  const exactTemplate = policy('resources:\n  "docs://public/{name}": [employee]');

  it("a template grant holds for the template as listed, though WHATWG would encode its braces", () => {
    expect(decide(exactTemplate, anyone, template("docs://public/{name}"))).toEqual({
      allowed: true,
      rule: "a.yaml resources.docs://public/{name}",
      explanation: "allowed by a.yaml resources.docs://public/{name}",
    });
    // Another template is not this one, even where a variable could stand for its expression.
    expect(decide(exactTemplate, anyone, template("docs://public/{other}")).allowed).toBe(false);
    expect(decide(exactTemplate, anyone, template("docs://public/{+path}")).allowed).toBe(false);
    // The same string as a URI to read is an expansion (the value "{name}"), under every reading.
    expect(decide(exactTemplate, anyone, resource("docs://public/{name}")).allowed).toBe(true);
  });

  it("is not read otherwise: an upper-case scheme stays as written", () => {
    const deny = policy(`resources:\n  "*": [employee]\nrules:\n- deny: 'mcp.resource.uri.startsWith("docs://internal/")'`);
    expect(decide(deny, anyone, template("DOCS://internal/{name}")).allowed).toBe(true);
    expect(decide(deny, anyone, resource("DOCS://internal/x")).allowed).toBe(false);
  });

  it.each(["docs://public/{name}\t", "docs://public/ {name}", "docs://public\\{name}", "docs://public/../{name}"])(
    "still refuses %j",
    (uri) => {
      expect(decide(ALLOW_ALL, anyone, template(uri)).allowed).toBe(false);
    },
  );
});
