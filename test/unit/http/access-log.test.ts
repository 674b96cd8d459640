/** The access log writes one readable line per request, whatever length the caller gave the things it names. */
import { describe, expect, it } from "vitest";
import { AccessLog, MAX_FIELD_CHARS } from "../../../functions/http/access-log.js";
import { CollectingLogger } from "../../support/gateway.js";

describe("access log", () => {
  it("caps caller-chosen text (a tool name, a reason quoting a 10 KB kid) and says how much was left out", () => {
    const logger = new CollectingLogger();
    const log = new AccessLog(logger, new Request("http://gateway.test/mcp", { method: "POST" }));
    log.entry.tool = "t".repeat(1_000_000);
    log.entry.reason = `unknown signing key: ${"k".repeat(10_000)}`;
    log.entry.subject = "jsmith";
    log.write(200);
    const line = logger.last();
    expect(line.tool).toBe(`${"t".repeat(MAX_FIELD_CHARS)}...(${1_000_000 - MAX_FIELD_CHARS} more characters)`);
    expect(String(line.reason).length).toBeLessThan(MAX_FIELD_CHARS + 40);
    expect(line.message).toMatch(/^request ended: unknown signing key: k+\.\.\.\(\d+ more characters\)$/);
    expect(line.subject).toBe("jsmith");
  });

  it("writes the line once", () => {
    const logger = new CollectingLogger();
    const log = new AccessLog(logger, new Request("http://gateway.test/mcp"));
    log.write(200);
    log.write(500);
    expect(logger.requests()).toHaveLength(1);
  });
});
