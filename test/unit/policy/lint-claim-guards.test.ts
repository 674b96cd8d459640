/**
 * Lint of deny rules that a missing claim keeps from holding: the read of `jwt.<claim>` is an evaluation error for a
 * token without it, an error counts as false, and the deny does not hold for exactly those tokens (lint-claim-guards.ts).
 */
import { describe, expect, it } from "vitest";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import { lintPolicy } from "../../../functions/policy/lint.js";
import { compilePolicy } from "../../../functions/policy/compile.js";
import { decide } from "../../../functions/policy/decide.js";
import type { Identity } from "../../../functions/policy/types.js";

const lint = (text: string) => lintPolicy([parsePolicyDocument({ origin: "p.yaml", text })]);
/** `origin: message @line:column` per finding about a claim nothing guards. */
const lines = (text: string) =>
  lint(text)
    .filter((f) => f.message.includes("without has("))
    .map((f) => `${f.origin}: ${f.message}${f.position ? ` @${f.position.line}:${f.position.column}` : ""}`);
const advice = (text: string) => lines(text).map((line) => line.replace(/.*; write /, "").replace(/ for it to hold for tokens without the claim @\d+:\d+$/, ""));

describe("deny rules that fail open on a missing claim", () => {
  it("warns on a negated read of a claim, at the read, saying what happens and how to write it", () => {
    const text = `rules:\n- 'true'\n- deny: '!("admin" in jwt.roles)'`;
    // What the warning is about, judged by the gateway's own decision: the deny stops a token with other roles only.
    const policy = compilePolicy([parsePolicyDocument({ origin: "p.yaml", text })]);
    const allowed = (claims: Identity["claims"]) => decide(policy, { subject: "u", claims, roles: [], scopes: [] }, { kind: "tool", name: "echo" }).allowed;
    expect([allowed({ roles: ["user"] }), allowed({}), allowed({ roles: "user" })]).toEqual([false, true, true]);
    expect(lines(text)).toEqual([
      'p.yaml rules[1]: reads jwt.roles without has(jwt.roles): for a token without that claim the condition is an evaluation error, so false, and this deny does not hold for it (nor for a claim of another type, such as one string where a list was expected); write !has(jwt.roles) || !("admin" in jwt.roles) for it to hold for tokens without the claim @3:23',
    ]);
  });

  it("names the part to guard inside a larger condition, and every step of a nested claim", () => {
    expect(advice(`rules:\n- deny: 'mcp.tool.name == "pay" && !("MCP.Admin" in jwt.roles)'`)).toEqual(['(!has(jwt.roles) || !("MCP.Admin" in jwt.roles))']);
    expect(lines(`rules:\n- deny: 'mcp.tool.name.startsWith("m_") && !("on-call" in jwt.realm_access.roles)'`)).toEqual([
      expect.stringMatching(/^p\.yaml rules\[0\]: reads jwt\.realm_access\.roles without has\(jwt\.realm_access\) and has\(jwt\.realm_access\.roles\): .* @2:59$/),
    ]);
    expect(advice(`rules:\n- deny: 'mcp.tool.name.startsWith("m_") && !("on-call" in jwt.realm_access.roles)'`)).toEqual([
      '(!has(jwt.realm_access) || !has(jwt.realm_access.roles) || !("on-call" in jwt.realm_access.roles))',
    ]);
    expect(advice(`rules:\n- deny: '!("x" in jwt.resource_access["mcp-gateway"].roles)'`)).toEqual([
      '!has(jwt.resource_access) || !("mcp-gateway" in jwt.resource_access) || !("roles" in jwt.resource_access["mcp-gateway"]) || !("x" in jwt.resource_access["mcp-gateway"].roles)',
    ]);
  });

  it("warns on != and on tests whose value for a missing claim cannot be told", () => {
    expect(advice(`rules:\n- deny: 'jwt.sub != "alice"'`)).toEqual(['!has(jwt.sub) || jwt.sub != "alice"']);
    expect(advice(`rules:\n- deny: 'jwt.level < 3'`)).toEqual(["!has(jwt.level) || jwt.level < 3"]);
    expect(advice(`rules:\n- deny: 'size(jwt.groups) == 0'`)).toEqual(["!has(jwt.groups) || size(jwt.groups) == 0"]);
  });

  it("does not warn where a guard decides for a missing claim", () => {
    for (const guarded of [
      '!has(jwt.roles) || !("admin" in jwt.roles)',
      '!("admin" in jwt.roles) || !has(jwt.roles)',
      '!(has(jwt.roles) && "admin" in jwt.roles)',
      '!("roles" in jwt) || !("admin" in jwt.roles)',
      'has(jwt.roles) ? !("admin" in jwt.roles) : true',
      '!has(jwt.realm_access) || !has(jwt.realm_access.roles) || !("on-call" in jwt.realm_access.roles)',
      '!has(jwt.resource_access) || !("mcp-gateway" in jwt.resource_access) || !("roles" in jwt.resource_access["mcp-gateway"]) || !("x" in jwt.resource_access["mcp-gateway"].roles)',
      'mcp.tool.name == "deploy" && !(has(jwt.roles) && "release-manager" in jwt.roles)',
    ]) {
      expect(lines(`rules:\n- deny: '${guarded}'`), guarded).toEqual([]);
    }
  });

  it("does not warn where a missing claim would not match anyway, nor on allow and require rules", () => {
    for (const positive of ['jwt.sub == "mallory"', '"contractor" in jwt.groups', 'jwt.email.endsWith("@evil.example")', "jwt.suspended", '!(jwt.sub != "mallory")']) {
      expect(lines(`rules:\n- deny: '${positive}'`), positive).toEqual([]);
    }
    expect(lines(`rules:\n- '!("admin" in jwt.roles)'\n- require: '!("guest" in jwt.roles)'`)).toEqual([]);
  });

  it("a guard that itself reads a missing parent does not count", () => {
    expect(advice(`rules:\n- deny: '!has(jwt.realm_access.roles) || !("on-call" in jwt.realm_access.roles)'`)).toEqual([
      "(!has(jwt.realm_access) || !has(jwt.realm_access.roles))",
      '(!has(jwt.realm_access) || !("on-call" in jwt.realm_access.roles))',
    ]);
  });
});
