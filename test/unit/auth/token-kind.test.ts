/** What tells an access token from an issuer's other JWTs: the typ header, claims of other kinds, preset markers. */
import { describe, expect, it } from "vitest";
import { notAnAccessToken, typMediaType, type TokenKindRules } from "../../../functions/auth/token-kind.js";
import { PRESETS } from "../../../functions/config/issuers.js";

const ANY: TokenKindRules = { requireAtJwt: false, markers: [] };
const AT_JWT: TokenKindRules = { requireAtJwt: true, markers: [] };
const preset = (name: keyof typeof PRESETS): TokenKindRules => ({ requireAtJwt: false, markers: PRESETS[name].accessTokenMarkers });
const HEADER = { alg: "RS256", kid: "k1", typ: "JWT" };

describe("typMediaType (RFC 7515 §4.1.9)", () => {
  it.each([
    ["at+jwt", "application/at+jwt"],
    ["AT+JWT", "application/at+jwt"],
    ["application/at+jwt", "application/at+jwt"],
    ["Application/At+Jwt", "application/at+jwt"],
    ["JWT", "application/jwt"],
    ["text/plain", "text/plain"],
  ])("%s names %s", (typ, mediaType) => {
    expect(typMediaType(typ)).toBe(mediaType);
  });
});

describe("the typ header", () => {
  it.each([
    ["logout+jwt", "a logout token"],
    ["application/logout+jwt", "a logout token"],
    ["Logout+JWT", "a logout token"],
    ["secevent+jwt", "a security event token"],
    ["APPLICATION/SECEVENT+JWT", "a security event token"],
    ["id_token+jwt", "an ID token"],
    ["id+jwt", "an ID token"],
  ])("refuses %s as %s, whatever the rules", (typ, kind) => {
    const reason = `not an access token: header typ is ${JSON.stringify(typ)} (${kind})`;
    expect(notAnAccessToken({ ...HEADER, typ }, {}, ANY)).toBe(reason);
    expect(notAnAccessToken({ ...HEADER, typ }, {}, AT_JWT)).toBe(reason);
  });

  it.each(["JWT", "jwt", "at+jwt", "application/at+jwt", "JOSE"])("accepts %s when at+jwt is not required", (typ) => {
    expect(notAnAccessToken({ ...HEADER, typ }, {}, ANY)).toBeUndefined();
  });

  it("accepts no typ at all when at+jwt is not required (Okta and Cognito headers carry none)", () => {
    expect(notAnAccessToken({ alg: "RS256", kid: "k1" }, {}, ANY)).toBeUndefined();
  });

  it.each(["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])("accepts %s when at+jwt is required", (typ) => {
    expect(notAnAccessToken({ ...HEADER, typ }, {}, AT_JWT)).toBeUndefined();
  });

  it.each(["JWT", "at+jwt+x", "application/jwt", "text/at+jwt", "at+jwt "])("refuses %j when at+jwt is required", (typ) => {
    expect(notAnAccessToken({ ...HEADER, typ }, {}, AT_JWT)).toBe(`not an access token: header typ is ${JSON.stringify(typ)}, expected "at+jwt"`);
  });

  it("refuses a missing typ when at+jwt is required", () => {
    expect(notAnAccessToken({ alg: "RS256", kid: "k1" }, {}, AT_JWT)).toBe('not an access token: header typ is missing, expected "at+jwt"');
  });

  it.each([null, 7, ["at+jwt"], { typ: "at+jwt" }])("refuses a typ that is not a string (%j) as malformed", (typ) => {
    expect(notAnAccessToken({ ...HEADER, typ }, {}, ANY)).toBe("malformed token: header typ is not a string");
  });
});

describe("claims only other kinds of token carry", () => {
  it.each([
    ["events", { "http://schemas.openid.net/event/backchannel-logout": {} }, "security event and logout tokens"],
    ["at_hash", "77QmUPtjPfzWtF2AnpK9RQ", "ID tokens"],
    ["c_hash", "LDktKdoQak3Pk0cnXxCltA", "ID tokens"],
  ])("refuses a token with %s, whatever the preset", (claim, value, kinds) => {
    const reason = `not an access token: claim ${claim} is present (only ${kinds} carry it)`;
    expect(notAnAccessToken(HEADER, { [claim]: value }, ANY)).toBe(reason);
    for (const name of Object.keys(PRESETS) as Array<keyof typeof PRESETS>) {
      expect(notAnAccessToken(HEADER, { azp: "a", cid: "c", typ: "Bearer", token_use: "access", [claim]: value }, preset(name))).toBe(reason);
    }
  });

  it("does not take nonce for a marker: Keycloak access tokens may carry it", () => {
    expect(notAnAccessToken(HEADER, { nonce: "n-0S6_WzA2Mj", typ: "Bearer", azp: "mcp-cli" }, preset("keycloak"))).toBeUndefined();
    expect(notAnAccessToken(HEADER, { nonce: "n-0S6_WzA2Mj" }, ANY)).toBeUndefined();
  });
});

describe("the presets' markers", () => {
  it("Cognito: token_use must be access", () => {
    expect(notAnAccessToken(HEADER, { token_use: "access" }, preset("cognito"))).toBeUndefined();
    expect(notAnAccessToken(HEADER, { token_use: "id" }, preset("cognito"))).toBe('not an access token: token_use is "id", expected "access"');
    expect(notAnAccessToken(HEADER, {}, preset("cognito"))).toBe('not an access token: token_use is undefined, expected "access"');
  });

  it.each([
    ["ID", "an ID token"],
    ["Refresh", "a refresh token"],
    ["Offline", "an offline token"],
    ["Logout", "a logout token"],
    ["Serialized-ID", "a serialized ID token"],
  ])("Keycloak: refuses the typ claim %s (%s)", (typ, kind) => {
    expect(notAnAccessToken(HEADER, { typ, azp: "mcp-cli" }, preset("keycloak"))).toBe(`not an access token: claim typ is "${typ}" (${kind})`);
  });

  it("Keycloak: accepts typ Bearer, and a token without the claim", () => {
    expect(notAnAccessToken(HEADER, { typ: "Bearer" }, preset("keycloak"))).toBeUndefined();
    expect(notAnAccessToken(HEADER, {}, preset("keycloak"))).toBeUndefined();
    // Keycloak writes its kinds exactly so; the claim is not the typ header and is not read as a media type.
    expect(notAnAccessToken(HEADER, { typ: "id" }, preset("keycloak"))).toBeUndefined();
  });

  it.each([
    ["entra", ["azp", "appid", "scp"]],
    ["okta", ["cid", "scp"]],
    ["auth0", ["azp", "client_id"]],
  ] as const)("%s: a token needs one of %j", (name, claims) => {
    const reason = `not an access token: it has none of the claims ${claims.join(", ")}, one of which every access token of this issuer carries`;
    expect(notAnAccessToken(HEADER, { sub: "u", roles: ["admin"], amr: ["pwd"], idp: "x", nonce: "n" }, preset(name))).toBe(reason);
    for (const claim of claims) expect(notAnAccessToken(HEADER, { [claim]: "x" }, preset(name))).toBeUndefined();
    // A claim that is there but null names nothing.
    expect(notAnAccessToken(HEADER, Object.fromEntries(claims.map((c) => [c, null])), preset(name))).toBe(reason);
  });

  it("the header is judged before the claims", () => {
    expect(notAnAccessToken({ ...HEADER, typ: "logout+jwt" }, { events: {} }, preset("entra"))).toMatch(/^not an access token: header typ is "logout\+jwt"/);
  });
});
