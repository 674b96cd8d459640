/**
 * What a doctor check finds, one line each, and how the findings add up: the summary line and the exit code (0 only
 * when nothing failed, that is when an MCP client could sign in and work).
 */

/** ok: works for clients; warn: works, with a limit worth knowing; fail: some or all clients cannot sign in or work. */
export type Level = "ok" | "warn" | "fail";

export interface Finding {
  level: Level;
  /** What was checked, e.g. `challenge` or `tools/list`. */
  check: string;
  /** What was seen, and what it means for clients. */
  seen: string;
  /** What to do about it (given with failures, and with warnings that have a remedy). */
  fix?: string;
}

/** An error's first line, short enough for a finding (a schema error lists every problem on lines of their own). */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split("\n").find((text) => text.trim() !== "") ?? message;
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

export function formatFinding(finding: Finding): string {
  return `${finding.level.padEnd(5)}${finding.check}: ${finding.seen}${finding.fix ? ` Fix: ${finding.fix}` : ""}`;
}

/** Collects findings and prints each as it is made, so a slow check shows what came before it. */
export class Report {
  private readonly findings: Finding[] = [];

  constructor(private readonly print: (line: string) => void) {}

  add(...findings: Finding[]): void {
    for (const finding of findings) {
      this.findings.push(finding);
      this.print(formatFinding(finding));
    }
  }

  count(level: Level): number {
    return this.findings.filter((finding) => finding.level === level).length;
  }

  /** The last line: the counts and what they mean. `signedInChecked` says whether a token let the MCP checks run. */
  summary(signedInChecked: boolean): string {
    const [ok, warn, fail] = [this.count("ok"), this.count("warn"), this.count("fail")];
    const counts = `${ok} ok, ${warn} warning${warn === 1 ? "" : "s"}, ${fail} failure${fail === 1 ? "" : "s"}`;
    if (fail > 0) return `${counts}: MCP clients cannot sign in or work through this endpoint (see the failures above)`;
    if (!signedInChecked) return `${counts}: MCP clients can find where to sign in; give --token to check that a signed-in client can work`;
    return `${counts}: MCP clients can sign in and work through this endpoint`;
  }

  exitCode(): number {
    return this.count("fail") > 0 ? 1 : 0;
  }
}
