import { describe, expect, it } from "vitest";
import { identityFromClaims, readClaim, rolesFromClaim } from "../../../functions/auth/identity.js";

describe("readClaim", () => {
  it("reads a top-level claim", () => {
    expect(readClaim({ roles: ["a"] }, "roles")).toEqual(["a"]);
    expect(readClaim({}, "roles")).toBeUndefined();
  });

  it("reads a dotted name as a path into nested objects", () => {
    expect(readClaim({ realm_access: { roles: ["admin"] } }, "realm_access.roles")).toEqual(["admin"]);
    expect(readClaim({ a: { b: { c: "deep" } } }, "a.b.c")).toBe("deep");
    expect(readClaim({ realm_access: {} }, "realm_access.roles")).toBeUndefined();
    expect(readClaim({ realm_access: "x" }, "realm_access.roles")).toBeUndefined();
    expect(readClaim({ realm_access: null }, "realm_access.roles")).toBeUndefined();
  });

  it("prefers a claim literally named with dots (Auth0 URL namespaces) over the path", () => {
    const name = "https://example.com/roles";
    expect(readClaim({ [name]: ["admin"] }, name)).toEqual(["admin"]);
    expect(readClaim({ "a.b": "literal", a: { b: "nested" } }, "a.b")).toBe("literal");
  });

  it("does not walk into arrays", () => {
    expect(readClaim({ groups: ["x", "y"] }, "groups.0")).toBeUndefined();
    expect(readClaim({ groups: ["x"] }, "groups.length")).toBeUndefined();
  });

  it("never reads inherited properties", () => {
    expect(readClaim({}, "constructor")).toBeUndefined();
    expect(readClaim({}, "__proto__")).toBeUndefined();
    expect(readClaim({}, "toString")).toBeUndefined();
    expect(readClaim({ a: {} }, "a.constructor")).toBeUndefined();
    expect(readClaim({ a: {} }, "a.__proto__.toString")).toBeUndefined();
  });
});

describe("rolesFromClaim", () => {
  it("takes the strings of a list and drops anything else", () => {
    expect(rolesFromClaim(["admin", "employee"])).toEqual(["admin", "employee"]);
    expect(rolesFromClaim(["admin", 1, null, { r: "x" }, ["y"], "ops"])).toEqual(["admin", "ops"]);
    expect(rolesFromClaim([])).toEqual([]);
  });

  it("reads a single string as one role, and a space-separated string as several", () => {
    expect(rolesFromClaim("admin")).toEqual(["admin"]);
    expect(rolesFromClaim("admin employee")).toEqual(["admin", "employee"]);
    expect(rolesFromClaim("  admin   employee ")).toEqual(["admin", "employee"]);
    expect(rolesFromClaim("")).toEqual([]);
  });

  it.each([[undefined], [null], [42], [true], [{ admin: true }]])("gives no roles for %j", (value) => {
    expect(rolesFromClaim(value)).toEqual([]);
  });
});

describe("identityFromClaims", () => {
  it("takes the subject and the roles from the configured claim, keeping every claim", () => {
    const claims = { sub: "jsmith", iss: "https://idp", groups: ["ops"], roles: ["ignored"] };
    const identity = identityFromClaims(claims, "groups");
    expect(identity).toEqual({ subject: "jsmith", claims, roles: ["ops"], scopes: [] });
    expect(identity.claims).toBe(claims);
  });

  it("has no subject when sub is missing or not a string", () => {
    expect(identityFromClaims({}, "roles").subject).toBeUndefined();
    expect(identityFromClaims({ sub: 7 } as never, "roles").subject).toBeUndefined();
  });

  it("reads roles through a dotted path and through a literal URL-shaped claim name", () => {
    expect(identityFromClaims({ realm_access: { roles: ["admin"] } }, "realm_access.roles").roles).toEqual(["admin"]);
    expect(identityFromClaims({ "https://example.com/roles": "a b" }, "https://example.com/roles").roles).toEqual(["a", "b"]);
  });

  it("has no roles when the claim is absent", () => {
    expect(identityFromClaims({ sub: "jsmith" }, "roles").roles).toEqual([]);
  });
});
