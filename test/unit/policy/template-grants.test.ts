/**
 * Resource grants on URI templates (uri-template.ts): the template as written in template lists, and the URIs it
 * expands to (each level-1 variable one or more characters other than / ? #), judged under every reading a backend
 * may make of a URI. Attacker spellings (encoded slashes, dot segments, empty values, other segments) are refused.
 */
import { describe, expect, it } from "vitest";
import { decide } from "../../../functions/policy/decide.js";
import type { Identity } from "../../../functions/policy/types.js";
import { readTemplateKey } from "../../../functions/policy/uri-template.js";
import { loadPolicyText, policyRefusal } from "../../support/policy-text.js";

const load = (text: string) => loadPolicyText(text, "a.yaml");
const refusal = (text: string) => policyRefusal(text, "a.yaml");

const caller = (...roles: string[]): Identity => ({ subject: "u", claims: { sub: "u", roles }, roles, scopes: [] });
const admin = caller("admin");
const user = caller("user");

const TEMPLATE = "demo://resource/dynamic/text/{resourceId}";
const GRANT = `a.yaml resources.${TEMPLATE}`;
const policy = load(`resources:\n  "${TEMPLATE}": [admin]\n`);
const read = (uri: string, identity = admin) => decide(policy, identity, { kind: "resource", name: uri });

describe("a template grant allows the URIs it expands to", () => {
  it.each(["1", "42", "abc", "a.b", "...", "a,b", "café", "caf%C3%A9", "%41", "x=y;z", "\u{1F600}", "\uFF0F"])("admin reads .../text/%s, decided by the template grant", (value) => {
    expect(read(`demo://resource/dynamic/text/${value}`)).toEqual({ allowed: true, rule: GRANT, explanation: `allowed by ${GRANT}` });
  });

  it("not for a caller without the role", () => {
    expect(read("demo://resource/dynamic/text/1", user)).toEqual({ allowed: false, rule: undefined, explanation: "no rule allows it (default deny)" });
  });

  it.each([
    ["an extra segment", "demo://resource/dynamic/text/1/2"],
    ["an empty value", "demo://resource/dynamic/text/"],
    ["no value at all", "demo://resource/dynamic/text"],
    ["a query", "demo://resource/dynamic/text/1?x=1"],
    ["a fragment", "demo://resource/dynamic/text/1#f"],
    ["a percent-encoded slash", "demo://resource/dynamic/text/a%2Fb"],
    ["a lower-case percent-encoded slash", "demo://resource/dynamic/text/a%2fb"],
    ["a percent-encoded slash and dot segment", "demo://resource/dynamic/text/%2F.."],
    ["a percent-encoded question mark", "demo://resource/dynamic/text/1%3Fx"],
    ["a percent-encoded hash", "demo://resource/dynamic/text/1%23x"],
    ["a dot segment", "demo://resource/dynamic/text/.."],
    ["a single dot", "demo://resource/dynamic/text/."],
    ["percent-encoded dot segments", "demo://resource/dynamic/text/%2e%2e"],
    ["twice-encoded dot segments", "demo://resource/dynamic/text/%252e%252e"],
    ["dot segments that climb out", "demo://resource/dynamic/text/../../static/secret"],
    ["a backslash", "demo://resource/dynamic/text/a\\b"],
    ["a tab", "demo://resource/dynamic/text/1\t"],
    ["a space", "demo://resource/dynamic/text/1 2"],
    ["an upper-case scheme", "DEMO://resource/dynamic/text/1"],
    ["another prefix", "demo://resource/dynamic/texts/1"],
    ["the prefix twice", "demo://resource/dynamic/text/demo://resource/dynamic/text/1"],
  ])("refuses %s: %j", (_, uri) => {
    expect(read(uri).allowed).toBe(false);
  });

  it("names the reading that was refused", () => {
    expect(read("demo://resource/dynamic/text/a%2Fb").explanation).toBe(
      'as a backend may read it (percent-decoded: "demo://resource/dynamic/text/a/b"), no rule allows it (default deny)',
    );
  });

  it("lists the template itself as written, and no other template", () => {
    const template = (name: string) => decide(policy, admin, { kind: "resource", name, template: true });
    expect(template(TEMPLATE)).toEqual({ allowed: true, rule: GRANT, explanation: `allowed by ${GRANT}` });
    expect(decide(policy, user, { kind: "resource", name: TEMPLATE, template: true }).allowed).toBe(false);
    expect(template("demo://resource/dynamic/text/{other}").allowed).toBe(false);
    expect(template("demo://resource/dynamic/text/{+rest}").allowed).toBe(false);
  });

  it("lets a deny rule stop an expansion, naming the deny", () => {
    const guarded = load(`resources:\n  "${TEMPLATE}": [admin]\nrules:\n- deny: 'mcp.resource.uri.endsWith("/secret")'`);
    expect(decide(guarded, admin, { kind: "resource", name: "demo://resource/dynamic/text/secret" })).toEqual({
      allowed: false,
      rule: "a.yaml rules[0]",
      explanation: "denied by a.yaml rules[0]",
    });
    expect(decide(guarded, admin, { kind: "resource", name: "demo://resource/dynamic/text/public" }).rule).toBe(GRANT);
  });

  it("takes several variables, each one segment or part of one; other characters are literal", () => {
    const several = load(`resources:\n  "docs://{space}/pages/{page}.md": ["*"]\n  "docs://glob/{x}/*": ["*"]`);
    const allowed = (uri: string) => decide(several, user, { kind: "resource", name: uri }).allowed;
    expect(allowed("docs://eng/pages/intro.md")).toBe(true);
    expect(allowed("docs://eng/pages/.md")).toBe(false);
    expect(allowed("docs://eng/team/pages/intro.md")).toBe(false);
    expect(allowed("docs://eng/pages/a/b.md")).toBe(false);
    expect(allowed("docs://glob/a/*")).toBe(true);
    expect(allowed("docs://glob/a/b")).toBe(false);
  });

  it("grants other kinds nothing: a template key in tools is a tool name", () => {
    const tools = load(`tools:\n  "run_{name}": ["*"]`);
    expect(decide(tools, user, { kind: "tool", name: "run_x" }).allowed).toBe(false);
    expect(decide(tools, user, { kind: "tool", name: "run_{name}" }).allowed).toBe(true);
  });
});

describe("template keys other than level-1 variables", () => {
  it.each([
    ["docs://{+path}", "{+path} uses the RFC 6570 operator +"],
    ["docs://x{#frag}", "{#frag} uses the RFC 6570 operator #"],
    ["docs://x{.ext}", "{.ext} uses the RFC 6570 operator ."],
    ["docs://x{/seg}", "{/seg} uses the RFC 6570 operator /"],
    ["docs://x{;p}", "{;p} uses the RFC 6570 operator ;"],
    ["docs://x{?q}", "{?q} uses the RFC 6570 operator ?"],
    ["docs://x?a=1{&q}", "{&q} uses the RFC 6570 operator &"],
    ["docs://{=x}", "{=x} uses =, which RFC 6570 reserves"],
    ["docs://{x,y}", "{x,y} lists several variables"],
    ["docs://{x*}", "{x*} has an RFC 6570 modifier"],
    ["docs://{x:3}", "{x:3} has an RFC 6570 modifier"],
    ["docs://{a b}", '{a b} is not a variable name'],
    ["docs://{x", "the { at offset 7 is not closed"],
    ["docs://{x{y}}", "the { at offset 7 is not closed"],
    ["docs://x}", "a } at offset 8 closes no {"],
  ])("refuses %s when the document loads: %s", (key, reason) => {
    const message = refusal(`resources:\n  ${JSON.stringify(key)}: [admin]`);
    expect(message.startsWith(`a.yaml: resources[${JSON.stringify(key)}]: ${reason}`)).toBe(true);
    expect(message).toMatch(/\(line 2, column \d+\)$/);
  });

  it("reads {} as naming no variable: the grant matches nothing", () => {
    expect(readTemplateKey("docs://{}")).toEqual({ kind: "matches nothing", reason: "{} names no variable, so it is no template and matches no URI" });
    const nothing = load(`resources:\n  "docs://{}": ["*"]`);
    expect(decide(nothing, user, { kind: "resource", name: "docs://x" }).allowed).toBe(false);
    expect(decide(nothing, user, { kind: "resource", name: "docs://{}" }).allowed).toBe(false);
    expect(decide(nothing, user, { kind: "resource", name: "docs://{}", template: true }).allowed).toBe(false);
  });

  it("reads a level-1 key into its parts", () => {
    expect(readTemplateKey("docs://{space}/{page}")).toEqual({ kind: "template", parts: [{ literal: "docs://" }, { variable: "space" }, { literal: "/" }, { variable: "page" }] });
  });
});
