import { describe, expect, it } from "vitest";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import { compilePins } from "../../../functions/pins/pin-set.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const doc = (origin: string, text: string) => parsePolicyDocument({ origin, text });

describe("pins merged from documents", () => {
  it("pins a server under enforce by default, keeps warn, and leaves servers off or without pins out", () => {
    const pins = compilePins([
      doc("a.yaml", `servers: { docs: { pins: { tools: { echo: "${A}" } } }, jira: { pins: { prompts: { p: "${B}" } }, pinning: warn }, off: { pins: { tools: { x: "${A}" } }, pinning: off }, plain: { tools: { x: ["*"] } } }`),
    ]);
    expect([...pins.keys()].sort()).toEqual(["docs", "jira"]);
    expect(pins.get("docs")).toMatchObject({ mode: "enforce" });
    expect(pins.get("docs")?.digests.tools.get("echo")).toBe(A);
    expect(pins.get("jira")?.mode).toBe("warn");
    expect(pins.get("jira")?.digests.prompts.get("p")).toBe(B);
  });

  it("enforces a server given pinning: enforce without pins: every definition is then unpinned", () => {
    const pins = compilePins([doc("a.yaml", "servers: { docs: { pinning: enforce } }")]);
    expect(pins.get("docs")?.digests.tools.size).toBe(0);
  });

  it("merges the pins of several documents, and agrees with a repeated one", () => {
    const pins = compilePins([
      doc("a.yaml", `servers: { docs: { pins: { tools: { echo: "${A}" } } } }`),
      doc("b.yaml", `servers: { docs: { pins: { tools: { echo: "${A}", add: "${B}" } } } }`),
    ]);
    expect([...(pins.get("docs")?.digests.tools ?? [])]).toEqual([["echo", A], ["add", B]]);
  });

  it("refuses one definition pinned to two digests, naming both documents", () => {
    expect(() =>
      compilePins([doc("a.yaml", `servers: { docs: { pins: { tools: { echo: "${A}" } } } }`), doc("b.yaml", `servers: { docs: { pins: { tools: { echo: "${B}" } } } }`)]),
    ).toThrow(`b.yaml servers.docs.pins.tools.echo: pinned to ${B}, but a.yaml servers.docs.pins.tools.echo pins it to ${A}`);
  });

  it("refuses two pinning modes for one server, naming both documents", () => {
    expect(() => compilePins([doc("a.yaml", "servers: { docs: { pinning: warn } }"), doc("b.yaml", "servers: { docs: { pinning: enforce } }")])).toThrow(
      "b.yaml servers.docs.pinning: enforce conflicts with warn at a.yaml servers.docs.pinning",
    );
  });

  it("refuses a malformed digest and an unknown mode, with the place and line", () => {
    expect(() => doc("a.yaml", "servers:\n  docs:\n    pins:\n      tools:\n        echo: sha256:ABC\n")).toThrow(
      /a\.yaml: servers\.docs\.pins\.tools\.echo: a digest is "sha256:" followed by 64 lower-case hex digits \(line 5/,
    );
    expect(() => doc("a.yaml", "servers: { docs: { pinning: strict } }")).toThrow(/servers\.docs\.pinning: must be enforce, warn or off/);
    expect(() => doc("a.yaml", `servers: { docs: { pins: { resources: { x: "${A}" } } } }`)).toThrow(/servers\.docs\.pins/);
  });
});
