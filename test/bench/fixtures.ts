/**
 * What the benchmarks send and judge: the client's JSON-RPC requests and headers, generated policies of realistic
 * mixed shapes, and generated tool lists. Deterministic, so every run measures the same work.
 */
export const PROTOCOL_VERSION = "2025-06-18";
export const ECHO_TEXT = "hello from the benchmark";

/** The headers an MCP client sends on a POST (the gateway adds nothing the backend needs beyond these). */
export function clientHeaders(token?: string): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
    "Mcp-Protocol-Version": PROTOCOL_VERSION,
  };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return headers;
}

export function echoCall(id: number): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message: ECHO_TEXT } } });
}

/**
 * A `tools/list` request the bench backend answers with `tools` generated tools. The size travels in the opaque
 * pagination cursor, which the gateway forwards untouched like the rest of the body.
 */
export function toolsListCall(id: number, tools: number): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list", params: { cursor: `bench-tools=${tools}` } });
}

export function toolsInCursor(cursor: unknown): number | undefined {
  const match = typeof cursor === "string" ? /^bench-tools=(\d+)$/.exec(cursor) : null;
  return match ? Number(match[1]) : undefined;
}

export function toolName(i: number): string {
  return `svc${i % 50}_op${i}`;
}

/** A tool as MCP servers describe them: name, description, JSON Schema of its input (about 200 bytes). */
export function generatedTools(count: number): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => ({
    name: toolName(i),
    description: `Operation ${i} of service ${i % 50}: does one thing well.`,
    inputSchema: {
      type: "object",
      properties: { id: { type: "string", description: "What to act on" }, limit: { type: "number" } },
      required: ["id"],
    },
  }));
}

/** The backend's answer to a `tools/list` of `count` tools, as JSON text. */
export function toolsListResult(id: unknown, count: number): string {
  return JSON.stringify({ jsonrpc: "2.0", id, result: { tools: generatedTools(count) } });
}

/** The caller judged by the scale benchmarks: three of the twelve roles the generated policies use. */
export const BENCH_SUBJECT = "bench-user";
export const BENCH_ROLES = ["role_1", "role_4", "role_7"];

export interface GeneratedPolicy {
  /** The document, in YAML (both forms: native grants and CEL rules). */
  yaml: string;
  /** How many rules of each shape it holds. */
  shapes: Record<string, number>;
}

/**
 * `count` rules of mixed shapes, in ten-rule cycles:
 * - 4 native grants of one tool by exact name (`svc7_op57: [role_9]`),
 * - 1 native grant by glob (`"svc4_op4*": [role_4, role_9]`),
 * - 3 CEL allows by name and role (`mcp.tool.name == "svc5_op5" && "role_5" in jwt.roles`),
 * - 1 CEL deny by name and subject (`mcp.tool.name == "svc8_op8" && jwt.sub == "mallory"`),
 * - 1 CEL allow by name prefix and role (`mcp.tool.name.startsWith("svc9_") && "role_0" in jwt.roles`).
 */
export function generatedPolicy(count: number): GeneratedPolicy {
  const tools: string[] = [];
  const rules: string[] = [];
  const shapes = { "native exact": 0, "native glob": 0, "CEL allow": 0, "CEL deny": 0, "CEL prefix allow": 0 };
  for (let j = 0; j < count; j++) {
    const name = toolName(j);
    const role = `role_${j % 12}`;
    switch (j % 10) {
      case 0: case 1: case 2: case 3:
        tools.push(`  ${name}: [${role}]`);
        shapes["native exact"]++;
        break;
      case 4:
        tools.push(`  "${name}*": [${role}, role_${(j + 5) % 12}]`);
        shapes["native glob"]++;
        break;
      case 5: case 6: case 7:
        rules.push(`- 'mcp.tool.name == "${name}" && "${role}" in jwt.roles'`);
        shapes["CEL allow"]++;
        break;
      case 8:
        rules.push(`- deny: 'mcp.tool.name == "${name}" && jwt.sub == "mallory"'`);
        shapes["CEL deny"]++;
        break;
      default:
        rules.push(`- 'mcp.tool.name.startsWith("svc${j % 50}_") && "role_${(j + 3) % 12}" in jwt.roles'`);
        shapes["CEL prefix allow"]++;
    }
  }
  const yaml = [`description: generated benchmark policy, ${count} rules`, "tools:", ...tools, "rules:", ...rules, ""].join("\n");
  return { yaml, shapes };
}
