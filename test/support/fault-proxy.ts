/**
 * A loopback relay in front of an AWS-compatible endpoint (moto's server in the tests) that answers chosen requests
 * with a fault instead of relaying them, and records every request with its operation and what became of it.
 *
 * Faults:
 * - `throttle`: AWS's throttling error as the JSON protocols (awsJson1_1, SSM's) report it: HTTP 400 with
 *   `x-amzn-ErrorType: ThrottlingException` and the body `{"__type":"ThrottlingException","message":"Rate exceeded"}`
 *   (`application/x-amz-json-1.1`);
 * - `reset`: the connection is reset (TCP RST) without an answer, as when the endpoint goes away mid-request.
 */
import { randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault = "throttle" | "reset";

export interface SeenRequest {
  /** The operation, from the JSON protocols' `X-Amz-Target` (`AmazonSSM.GetParametersByPath` → `GetParametersByPath`). */
  operation: string;
  outcome: "relayed" | Fault;
}

export interface FaultProxy {
  /** The relay's endpoint URL, for `AWS_ENDPOINT_URL_SSM` or a client's `endpoint`. */
  url: string;
  /** Every request, in order. */
  seen: SeenRequest[];
  /** Chooses the fault for a request by its operation; undefined relays it. Replace it at any time. */
  fault: (operation: string) => Fault | undefined;
  /** How many requests of `operation` ended as `outcome`. */
  count(operation: string, outcome: SeenRequest["outcome"]): number;
  close(): Promise<void>;
}

function throttle(res: ServerResponse): void {
  res.writeHead(400, {
    "content-type": "application/x-amz-json-1.1",
    "x-amzn-requestid": randomUUID(),
    "x-amzn-errortype": "ThrottlingException",
  });
  res.end(JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }));
}

function relay(target: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
  const upstream = httpRequest(
    { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", (err) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(`relay failed: ${err.message}`);
  });
  upstream.end(body);
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const targetUrl = new URL(target);
  const proxy: Omit<FaultProxy, "url" | "close"> = {
    seen: [],
    fault: () => undefined,
    count: (operation, outcome) => proxy.seen.filter((r) => r.operation === operation && r.outcome === outcome).length,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
      const fault = proxy.fault(operation);
      proxy.seen.push({ operation, outcome: fault ?? "relayed" });
      if (fault === "throttle") throttle(res);
      else if (fault === "reset") req.socket.resetAndDestroy();
      else relay(targetUrl, req, Buffer.concat(chunks), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
