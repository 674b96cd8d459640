/**
 * Tokens shaped as each preset's identity provider documents them: genuine access tokens, and the ID tokens the same
 * IdP signs with the same keys, each with the reason the gateway gives for refusing it. Header and claims follow:
 * - Entra ID: learn.microsoft.com/entra/identity-platform/access-token-claims-reference and id-token-claims-reference
 *   (v2 access tokens name the client in `azp`, v1 in `appid`; ID tokens carry neither, nor `scp`; both typed JWT);
 * - Okta: developer.okta.com/docs/reference/api/oidc/ (access tokens: `cid`, `uid`, `scp`, header `alg` and `kid`
 *   only; ID tokens: `amr`, `idp`, `aud` = client id, `at_hash` when issued with an access token);
 * - Keycloak: its TokenManager (the `typ` claim: "Bearer", "ID", "Logout"...; `at_hash` on ID tokens only);
 * - Cognito: docs.aws.amazon.com/cognito/latest/developerguide (`token_use`, `client_id`, no `aud` on access tokens);
 * - Auth0: auth0.com/docs/secure/tokens/access-tokens/access-token-profiles (`azp` and typ JWT on the Auth0 profile,
 *   `client_id`, `jti` and typ at+jwt on the RFC 9068 profile; ID tokens: `aud` = client id, `nonce`, `sid`).
 */
import type { JWTPayload } from "jose";
import type { PresetName } from "../../functions/config/issuers.js";

export const TENANT = "8f9d0a4e-3b1c-4c2d-9e7f-6a5b4c3d2e1f";
/** The Entra app registration that is both the MCP client and the API: its ID tokens carry the API's audience. */
export const ENTRA_APP = "6e1f3c52-8d1b-4d4f-9a57-2f1c0b7d9e10";
export const OKTA_CLIENT = "0oa1okta9xMcpClient";
export const COGNITO_CLIENT = "4lq2n7cognitoappclient";
export const AUTH0_CLIENT = "K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja";
export const AUTH0_API = "https://mcp.example.com/api";

export interface TokenShape {
  /** What the token is, for test names. */
  label: string;
  /** Protected header parameters besides alg and kid (`typ: undefined`: none, as Okta and Cognito send). */
  header: Record<string, unknown>;
  /** `aud`; null for none (Cognito access tokens). */
  audience: string | string[] | null;
  claims: JWTPayload;
}

export interface IssuerShapes {
  /** Names the issuer in test names. */
  name: string;
  preset: PresetName;
  issuer: string;
  /** The audiences the gateway is configured with: the client id among them, as where ID tokens would pass. */
  audience: string[];
  /** Genuine access tokens; the first is the one the other tests alter. */
  accessTokens: [TokenShape, ...TokenShape[]];
  /** ID tokens as the IdP issues them, each with the reason it is refused. */
  idTokens: Array<TokenShape & { reason: string }>;
  /** Claims a logout token from this IdP carries besides `events` (Keycloak names its kind in `typ`). */
  logoutClaims: JWTPayload;
}

const JWT = { typ: "JWT" };
const UNTYPED = { typ: undefined };
const now = () => Math.floor(Date.now() / 1000);
const AT_HASH = 'not an access token: claim at_hash is present (only ID tokens carry it)';
const noneOf = (claims: string) => `not an access token: it has none of the claims ${claims}, one of which every access token of this issuer carries`;

const ENTRA_V2 = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const ENTRA_V1 = `https://sts.windows.net/${TENANT}/`;
const ENTRA_NONE = noneOf("azp, appid, scp");
const entraUser = { aio: "AWQAm/8TAAAA", name: "Jane Smith", oid: "00000000-0000-0000-66f3-3332eca7ea81", rh: "0.AXEA", tid: TENANT, uti: "fqiBqXLPj0eQa82S-IYFAA" };

export const SHAPES: IssuerShapes[] = [
  {
    name: "Entra ID v2",
    preset: "entra",
    issuer: ENTRA_V2,
    audience: [ENTRA_APP, "api://mcp-gateway"],
    accessTokens: [
      {
        label: "a delegated (user) access token",
        header: JWT,
        audience: ENTRA_APP,
        claims: { ...entraUser, azp: "3f1e8a5b-cli-app", azpacr: "0", preferred_username: "jane@acme.example", roles: ["writer"], scp: "mcp.tools", ver: "2.0" },
      },
      {
        label: "an app-only access token (roles, no scp)",
        header: JWT,
        audience: ENTRA_APP,
        claims: { aio: "k2BgYDi", azp: "9b2c-daemon", azpacr: "1", idtyp: "app", oid: "9b2c-sp", rh: "0.AXEA", roles: ["reader"], tid: TENANT, uti: "x1", ver: "2.0" },
      },
    ],
    idTokens: [
      {
        label: "an ID token from the token endpoint, with the user's app roles",
        header: JWT,
        audience: ENTRA_APP,
        claims: { ...entraUser, nonce: "n-0S6_WzA2Mj", preferred_username: "jane@acme.example", roles: ["admin"], sid: "003f-sid", ver: "2.0" },
        reason: ENTRA_NONE,
      },
      {
        label: "an ID token from the authorize endpoint (at_hash)",
        header: JWT,
        audience: ENTRA_APP,
        claims: { ...entraUser, at_hash: "77QmUPtjPfzWtF2AnpK9RQ", nonce: "n-0S6_WzA2Mj", ver: "2.0" },
        reason: AT_HASH,
      },
    ],
    logoutClaims: { sid: "003f-sid" },
  },
  {
    name: "Entra ID v1",
    preset: "entra",
    issuer: ENTRA_V1,
    audience: ["api://mcp-gateway", ENTRA_APP],
    accessTokens: [
      {
        label: "a v1 access token (appid)",
        header: { typ: "JWT", x5t: "nOo3ZDrODXEK1jKWhXslHR_KXEg" },
        audience: "api://mcp-gateway",
        claims: { ...entraUser, acr: "1", amr: ["pwd"], appid: "3f1e8a5b-cli-app", appidacr: "0", scp: "mcp.tools", unique_name: "jane@acme.example", upn: "jane@acme.example", ver: "1.0" },
      },
    ],
    idTokens: [
      {
        label: "a v1 ID token",
        header: { typ: "JWT", x5t: "nOo3ZDrODXEK1jKWhXslHR_KXEg" },
        audience: ENTRA_APP,
        claims: { ...entraUser, amr: ["pwd"], family_name: "Smith", given_name: "Jane", ipaddr: "192.0.2.10", nonce: "n-1", unique_name: "jane@acme.example", upn: "jane@acme.example", ver: "1.0" },
        reason: ENTRA_NONE,
      },
    ],
    logoutClaims: { sid: "003f-sid" },
  },
  {
    name: "Okta",
    preset: "okta",
    issuer: "https://acme.okta.com/oauth2/default",
    audience: ["api://default", OKTA_CLIENT],
    accessTokens: [
      {
        label: "an access token (cid, uid, scp; no typ)",
        header: UNTYPED,
        audience: "api://default",
        claims: { ver: 1, cid: OKTA_CLIENT, uid: "00ujmkLgagxeRrAg20g3", scp: ["openid", "mcp.tools"], auth_time: now() - 60, groups: ["reader"] },
      },
    ],
    idTokens: [
      {
        label: "an ID token from the code flow",
        header: UNTYPED,
        audience: OKTA_CLIENT,
        claims: { ver: 1, amr: ["pwd"], idp: "00ok1u7AsAkrwdZL3z0g3", auth_time: now() - 60, name: "Jane Smith", preferred_username: "jane@acme.example", groups: ["admin"] },
        reason: noneOf("cid, scp"),
      },
      {
        label: "an ID token issued with an access token (at_hash)",
        header: UNTYPED,
        audience: OKTA_CLIENT,
        claims: { ver: 1, amr: ["pwd"], idp: "00ok1u7AsAkrwdZL3z0g3", auth_time: now() - 60, at_hash: "cpqKfdQA5eH891Ff5oJr_Q", nonce: "n-2" },
        reason: AT_HASH,
      },
    ],
    logoutClaims: { sid: "102hIUdyUu8QPmoESZYKELO6Q" },
  },
  {
    name: "Keycloak",
    preset: "keycloak",
    issuer: "https://sso.acme.example/realms/acme",
    audience: ["mcp-gateway"],
    accessTokens: [
      {
        label: "an access token (typ Bearer)",
        header: JWT,
        audience: ["mcp-gateway", "account"],
        claims: {
          typ: "Bearer",
          azp: "mcp-cli",
          sid: "b1a5-session",
          acr: "1",
          realm_access: { roles: ["reader"] },
          resource_access: { account: { roles: ["manage-account"] } },
          scope: "openid profile email mcp.tools",
          email_verified: true,
          preferred_username: "jane",
        },
      },
      {
        // Older Keycloak, or the "Nonce backwards compatible" mapper, put the nonce in access tokens too.
        label: "an access token with a nonce",
        header: JWT,
        audience: "mcp-gateway",
        claims: { typ: "Bearer", azp: "mcp-gateway", nonce: "n-3", sid: "b1a5-session", realm_access: { roles: ["reader"] }, scope: "openid" },
      },
    ],
    idTokens: [
      {
        label: "an ID token from the code flow (at_hash)",
        header: JWT,
        audience: "mcp-gateway",
        claims: { typ: "ID", azp: "mcp-gateway", nonce: "n-4", sid: "b1a5-session", at_hash: "x0Mp-AJnQo0E1Tjpr8zs2Q", acr: "1", auth_time: now() - 60, email_verified: true, preferred_username: "jane" },
        reason: AT_HASH,
      },
      {
        label: "an ID token without hashes (refreshed)",
        header: JWT,
        audience: "mcp-gateway",
        claims: { typ: "ID", azp: "mcp-gateway", sid: "b1a5-session", acr: "1", preferred_username: "jane", realm_access: { roles: ["admin"] } },
        reason: 'not an access token: claim typ is "ID" (an ID token)',
      },
    ],
    logoutClaims: { typ: "Logout", sid: "b1a5-session" },
  },
  {
    name: "Cognito",
    preset: "cognito",
    issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
    audience: [COGNITO_CLIENT],
    accessTokens: [
      {
        label: "an access token (token_use access, client_id, no aud, no typ)",
        header: UNTYPED,
        audience: null,
        claims: {
          "cognito:groups": ["reader"],
          version: 2,
          client_id: COGNITO_CLIENT,
          origin_jti: "4b5c-origin",
          event_id: "6d7e-event",
          token_use: "access",
          scope: "mcp/tools",
          auth_time: now() - 60,
          username: "jane",
        },
      },
    ],
    idTokens: [
      {
        label: "an ID token (at_hash)",
        header: UNTYPED,
        audience: COGNITO_CLIENT,
        claims: { at_hash: "cpqKfdQA5eH891Ff5oJr_Q", "cognito:groups": ["admin"], "cognito:username": "jane", origin_jti: "4b5c", event_id: "6d7e", token_use: "id", auth_time: now() - 60, email: "jane@acme.example" },
        reason: AT_HASH,
      },
      {
        label: "an ID token without at_hash",
        header: UNTYPED,
        audience: COGNITO_CLIENT,
        claims: { "cognito:groups": ["admin"], "cognito:username": "jane", token_use: "id", auth_time: now() - 60 },
        reason: 'not an access token: token_use is "id", expected "access"',
      },
    ],
    logoutClaims: { sid: "c0g-session" },
  },
  {
    name: "Auth0",
    preset: "auth0",
    issuer: "https://acme.eu.auth0.com/",
    audience: [AUTH0_API, AUTH0_CLIENT],
    accessTokens: [
      {
        label: "an access token of the default Auth0 profile (azp)",
        header: JWT,
        audience: [AUTH0_API, "https://acme.eu.auth0.com/userinfo"],
        claims: { azp: AUTH0_CLIENT, scope: "openid profile mcp.tools", "https://example.com/roles": ["reader"] },
      },
      {
        label: "a machine-to-machine access token of the Auth0 profile (gty)",
        header: JWT,
        audience: AUTH0_API,
        claims: { azp: AUTH0_CLIENT, gty: "client-credentials", scope: "mcp.tools" },
      },
      {
        label: "an access token of the RFC 9068 profile (client_id, typ at+jwt)",
        header: { typ: "at+jwt" },
        audience: AUTH0_API,
        claims: { client_id: AUTH0_CLIENT, scope: "openid profile mcp.tools" },
      },
    ],
    idTokens: [
      {
        label: "an ID token",
        header: JWT,
        audience: AUTH0_CLIENT,
        claims: { name: "Jane Smith", email: "jane@acme.example", nonce: "n-5", sid: "auth0-sid", "https://example.com/roles": ["admin"] },
        reason: noneOf("azp, client_id"),
      },
    ],
    logoutClaims: { sid: "auth0-sid" },
  },
];

/** The member of `events` a logout token carries (OpenID Connect Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT = "http://schemas.openid.net/event/backchannel-logout";
/** A RISC event, as a security event token carries it (RFC 8417 §2.2). */
export const ACCOUNT_DISABLED = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
