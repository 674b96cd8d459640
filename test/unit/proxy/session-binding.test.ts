/** Session ids are bound to the caller who opened them: sealed with a MAC over issuer and subject, checked on return. */
import { describe, expect, it } from "vitest";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import { SessionKeyUnavailableError } from "../../../functions/errors.js";
import { createSessionBinding } from "../../../functions/proxy/session-binding.js";
import { CollectingLogger } from "../../support/gateway.js";

const person = (claims: Record<string, unknown>) => identityFromClaims({ iss: "https://idp.example.com", ...claims }, "roles");
const alice = person({ sub: "alice" });
const bob = person({ sub: "bob" });

describe("session binding", () => {
  const binding = createSessionBinding(undefined, new CollectingLogger());

  it("gives back the backend's session id to the caller it was sealed for", async () => {
    const sealed = await binding.seal("backend-1", alice, "a");
    expect(sealed).toMatch(/^backend-1\.[A-Za-z0-9_-]{43}$/);
    expect(await binding.open(sealed, alice, "a")).toBe("backend-1");
    expect(await binding.open(sealed, person({ sub: "alice", roles: ["other"] }), "a")).toBe("backend-1");
  });

  it("refuses it to anyone else: another subject, the same subject at another issuer", async () => {
    const sealed = await binding.seal("backend-1", alice, "a");
    expect(await binding.open(sealed, bob, "a")).toBeUndefined();
    expect(await binding.open(sealed, identityFromClaims({ iss: "https://other-idp.example.com", sub: "alice" }, "roles"), "a")).toBeUndefined();
  });

  it("binds a token without sub to its client application", async () => {
    const service = person({ client_id: "reporting-job" });
    const sealed = await binding.seal("backend-2", service, "a");
    expect(await binding.open(sealed, person({ client_id: "reporting-job" }), "a")).toBe("backend-2");
    expect(await binding.open(sealed, person({ client_id: "other-job" }), "a")).toBeUndefined();
    expect(await binding.open(sealed, person({}), "a")).toBeUndefined();
  });

  it("refuses altered ids: another backend id under the MAC, a changed MAC, stray characters, no MAC at all", async () => {
    const sealed = await binding.seal("backend-1", alice, "a");
    const mac = sealed.split(".")[1] as string;
    const flipped = `${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`;
    for (const altered of [`backend-2.${mac}`, `backend-1.${flipped}`, `${sealed}=`, `${sealed}!`, "backend-1", `.${mac}`, "", `backend-1.${mac.slice(0, 42)}`]) {
      expect(await binding.open(altered, alice, "a"), altered).toBeUndefined();
    }
  });

  it("refuses every other spelling of the same MAC (the unused bits of its last character set otherwise)", async () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let round = 0; round < 8; round++) {
      const sealed = await binding.seal(`backend-${round}`, alice, "a");
      const last = alphabet.indexOf(sealed.at(-1) as string);
      for (let low = 1; low < 4; low++) {
        const respelled = `${sealed.slice(0, -1)}${alphabet[last ^ low]}`;
        expect(Buffer.from(respelled.split(".")[1] as string, "base64url").equals(Buffer.from(sealed.split(".")[1] as string, "base64url"))).toBe(true);
        expect(await binding.open(respelled, alice, "a"), respelled).toBeUndefined();
      }
    }
  });

  it("keeps backend ids that contain dots whole", async () => {
    const sealed = await binding.seal("a.b.c", alice, "a");
    expect(await binding.open(sealed, alice, "a")).toBe("a.b.c");
  });

  it("does not open on another server's endpoint", async () => {
    const sealed = await binding.seal("backend-1", alice, "github");
    expect(await binding.open(sealed, alice, "github")).toBe("backend-1");
    expect(await binding.open(sealed, alice, "jira")).toBeUndefined();
  });

  it("seals state that opens only for the same caller and purpose, and refuses any altered byte", async () => {
    const state = { servers: { github: "s-1", jira: "s-2" } };
    const sealed = await binding.sealState(state, alice, "session");
    expect(sealed).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("s-1");
    expect(await binding.openState(sealed, alice, "session")).toEqual(state);
    expect(await binding.openState(sealed, bob, "session")).toBeUndefined();
    expect(await binding.openState(sealed, alice, "cursor")).toBeUndefined();
    const body = sealed.slice(3);
    for (let at = 0; at < body.length; at += 7) {
      const altered = `s1.${body.slice(0, at)}${body[at] === "A" ? "B" : "A"}${body.slice(at + 1)}`;
      expect(await binding.openState(altered, alice, "session"), altered).toBeUndefined();
    }
    for (const altered of [`${sealed}=`, `${sealed}!`, "s1.", `s2.${body}`, body]) expect(await binding.openState(altered, alice, "session")).toBeUndefined();
    expect(await createSessionBinding(undefined, new CollectingLogger()).openState(sealed, alice, "session")).toBeUndefined();
  });

  it("does not accept ids sealed by another gateway's key", async () => {
    const other = createSessionBinding(undefined, new CollectingLogger());
    expect(await other.open(await binding.seal("backend-1", alice, "a"), alice, "a")).toBeUndefined();
  });
});

describe("session key unavailable", () => {
  it("refuses with 503 when the key cannot be read, and says why in the log", async () => {
    const logger = new CollectingLogger();
    // A parameter name on an endpoint nothing listens on: the read fails.
    const previous = process.env.AWS_ENDPOINT_URL_SSM;
    process.env.AWS_ENDPOINT_URL_SSM = "http://127.0.0.1:9";
    try {
      const binding = createSessionBinding({ kind: "ssm", name: "/gateway/session-key" }, logger);
      await expect(binding.ready()).rejects.toBeInstanceOf(SessionKeyUnavailableError);
      await expect(binding.seal("backend-1", alice, "a")).rejects.toMatchObject({ status: 503 });
      expect(logger.lines.some((line) => line.message === "session key could not be read" && line.fields.source === "SSM parameter /gateway/session-key")).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
      else process.env.AWS_ENDPOINT_URL_SSM = previous;
    }
  });
});
