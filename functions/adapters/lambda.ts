/**
 * The AWS Lambda adapter for API Gateway: an HTTP API event (payload 2.0) or a REST API proxy event (payload 1.0)
 * becomes a web-standard Request, the gateway core answers it, and the Response becomes the matching result.
 * The event kind is detected once per invocation; nothing else of Lambda reaches the core. The event and header
 * converters are shared with the streaming adapter (lambda-streaming.ts), so both front doors read requests alike.
 */
import middy from "@middy/core";
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import type { Gateway } from "../core/gateway.js";

export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;
export type ApiGatewayResult = APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult;

function isHttpApiEvent(event: ApiGatewayEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === "2.0";
}

function decodeBody(body: string | null | undefined, isBase64Encoded: boolean): string | Uint8Array<ArrayBuffer> | undefined {
  if (body === null || body === undefined || body === "") return undefined;
  return isBase64Encoded ? new Uint8Array(Buffer.from(body, "base64")) : body;
}

function requestFromHttpApi(event: APIGatewayProxyEventV2, signal?: AbortSignal): Request {
  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
  if (event.cookies?.length) headers.set("cookie", event.cookies.join("; "));
  const method = event.requestContext.http.method;
  return new Request(`https://${event.requestContext.domainName}${event.rawPath}${query}`, {
    method,
    headers,
    body: method === "GET" || method === "HEAD" ? undefined : decodeBody(event.body, event.isBase64Encoded),
    signal,
  });
}

function requestFromRestApi(event: APIGatewayProxyEvent, signal?: AbortSignal): Request {
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) query.append(name, value);
  }
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    for (const value of values ?? []) headers.append(name, value);
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined && !headers.has(name)) headers.set(name, value);
  const search = query.size > 0 ? `?${query}` : "";
  return new Request(`https://${event.requestContext.domainName ?? headers.get("host") ?? "localhost"}${event.path}${search}`, {
    method: event.httpMethod,
    headers,
    body: event.httpMethod === "GET" || event.httpMethod === "HEAD" ? undefined : decodeBody(event.body, event.isBase64Encoded),
    signal,
  });
}

/**
 * The client's request as a web-standard Request, from either payload format.
 * @param signal aborts the request (and so the backend call) when the client is known to be gone.
 */
export function requestFromEvent(event: ApiGatewayEvent, signal?: AbortSignal): Request {
  return isHttpApiEvent(event) ? requestFromHttpApi(event, signal) : requestFromRestApi(event, signal);
}

/** The HTTP method and path an event names, whichever its payload format. */
function requestLineOf(event: ApiGatewayEvent): { method: string; target: string } {
  return isHttpApiEvent(event)
    ? { method: event.requestContext.http.method, target: event.rawPath }
    : { method: event.httpMethod, target: event.path };
}

/**
 * The gateway's answer to an event: the event as a Request, answered by the core; or, when the event cannot be one
 * (a header value or path a Request refuses), the core's refusal, so every event gets an answer and a log line.
 */
export async function answerEvent(gateway: Gateway, event: ApiGatewayEvent, signal?: AbortSignal): Promise<Response> {
  let request: Request;
  try {
    request = requestFromEvent(event, signal);
  } catch (err) {
    const { method, target } = requestLineOf(event);
    return gateway.refuseUntranslatable(String(method), String(target), err instanceof Error ? err.message : String(err));
  }
  return gateway.fetch(request);
}

/** Response headers as the single-value map both Lambda result formats (and the streaming prelude) take. */
export function headersFromResponse(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/** Only text media types are returned as text; anything else is base64-encoded as API Gateway requires. */
function isTextual(contentType: string | null): boolean {
  return contentType === null || /^(text\/|application\/(json|[\w.+-]*\+json|x-www-form-urlencoded))/i.test(contentType);
}

async function resultFromResponse(response: Response, httpApi: boolean): Promise<ApiGatewayResult> {
  const headers = headersFromResponse(response);
  const textual = isTextual(response.headers.get("content-type"));
  const bytes = new Uint8Array(await response.arrayBuffer());
  const body = textual ? new TextDecoder().decode(bytes) : Buffer.from(bytes).toString("base64");
  const result = { statusCode: response.status, headers, body, isBase64Encoded: !textual };
  return httpApi ? result : { ...result, multiValueHeaders: {} };
}

/** Builds the Lambda handler for API Gateway events around a gateway core. */
export function createLambdaHandler(gateway: Gateway) {
  return middy<ApiGatewayEvent, ApiGatewayResult, Error, Context>().handler(async (event) => {
    return resultFromResponse(await answerEvent(gateway, event), isHttpApiEvent(event));
  });
}
