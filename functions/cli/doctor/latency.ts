/**
 * Check 8, with a token: how long requests take. The first request doctor sent is the one that meets a cold start
 * (a Lambda function that was idle starts for it); the warm figure is the median of a few pings through the gateway
 * to the MCP server and back, with the session open.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Finding } from "./report.js";

const PINGS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const ms = (value: number) => `${Math.round(value)} ms`;

/** @param firstRequestMs how long the first request of the run took to be answered. */
export async function checkLatency(client: Client, firstRequestMs: number): Promise<Finding> {
  const check = "latency";
  const times: number[] = [];
  try {
    for (let i = 0; i < PINGS; i++) {
      const started = performance.now();
      await client.ping();
      times.push(performance.now() - started);
    }
  } catch (error) {
    return { level: "fail", check, seen: `ping ${times.length + 1} failed: ${error instanceof Error ? error.message : String(error)}.` };
  }
  return { level: "ok", check, seen: `first request ${ms(firstRequestMs)} (a cold start, if the function was idle); warm: median ${ms(median(times))} over ${PINGS} pings` };
}
