/** A backend that answers every request with an empty JSON-RPC result and keeps the headers it received. */
import { serveFetch } from "../../functions/adapters/node-server.js";

export interface RecordingBackend {
  /** The backend's MCP endpoint. */
  url: string;
  /** The headers of every request it received, in order. */
  received: Headers[];
  close(): Promise<void>;
}

export async function startRecordingBackend(): Promise<RecordingBackend> {
  const received: Headers[] = [];
  const server = await serveFetch(async (request) => {
    received.push(request.headers);
    return Response.json({ jsonrpc: "2.0", id: 1, result: {} });
  }, { port: 0 });
  return { url: `${server.url}/mcp`, received, close: () => server.close() };
}
