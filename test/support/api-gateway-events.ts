/**
 * API Gateway events and a Lambda context shaped as AWS documents them, for driving the Lambda entry point:
 * - HTTP API, payload format 2.0: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * - REST API proxy integration, payload format 1.0:
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from "aws-lambda";

/** One HTTP request as the client sent it. Header names keep the client's casing (REST API passes them on so). */
export interface ClientRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Query parameters; a name may repeat. */
  query?: [string, string][];
  body?: string;
  /** Deliver the body base64-encoded (`isBase64Encoded: true`), as API Gateway does for binary media types. */
  base64?: boolean;
}

/** A POST of one MCP message to `/mcp` as an MCP client sends it, with its bearer token and, in a session, its id. */
export function mcpPostRequest(message: unknown, token: string, sessionId?: string): ClientRequest {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
    "Mcp-Protocol-Version": "2025-06-18",
    Authorization: `Bearer ${token}`,
  };
  if (sessionId) headers["Mcp-Session-Id"] = sessionId;
  return { method: "POST", path: "/mcp", headers, body: JSON.stringify(message) };
}

export interface ApiOptions {
  domainName: string;
  /** The stage; `$default` for an HTTP API's default stage. */
  stage: string;
  sourceIp?: string;
}

export const ACCOUNT_ID = "123456789012";
export const API_ID = "a1b2c3d4e5";
const SOURCE_IP = "198.51.100.23";
const USER_AGENT = "node";

/** "12/Mar/2020:19:03:58 +0000": the request time format of both payload versions. */
function requestTime(date: Date): string {
  const [, day, month, year, time] = date.toUTCString().match(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/) ?? [];
  return `${day?.padStart(2, "0")}/${month}/${year}:${time} +0000`;
}

function bodyBytes(request: ClientRequest): number {
  return request.body === undefined ? 0 : Buffer.byteLength(request.body);
}

/** The headers a client and API Gateway's front end add to every request. */
function standardHeaders(request: ClientRequest, options: ApiOptions): [string, string][] {
  const headers: [string, string][] = [
    ["Host", options.domainName],
    ["User-Agent", USER_AGENT],
    ["X-Amzn-Trace-Id", `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, "").slice(0, 24)}`],
    ["X-Forwarded-For", options.sourceIp ?? SOURCE_IP],
    ["X-Forwarded-Port", "443"],
    ["X-Forwarded-Proto", "https"],
  ];
  if (request.body !== undefined) headers.push(["Content-Length", String(bodyBytes(request))]);
  return [...headers, ...Object.entries(request.headers ?? {})];
}

function encodedBody(request: ClientRequest): string | undefined {
  if (request.body === undefined) return undefined;
  return request.base64 ? Buffer.from(request.body).toString("base64") : request.body;
}

/** An HTTP API (payload format 2.0) event: header names lowercased, repeated values joined with commas. */
export function httpApiEvent(request: ClientRequest, options: ApiOptions): APIGatewayProxyEventV2 {
  const now = new Date();
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of standardHeaders(request, options)) {
    const key = name.toLowerCase();
    // Cookies travel in their own field in payload 2.0.
    if (key === "cookie") cookies = value.split(/;\s*/);
    else headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of request.query ?? []) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const rawQueryString = new URLSearchParams(request.query ?? []).toString();
  const body = encodedBody(request);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: request.path,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(request.query?.length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName: options.domainName,
      domainPrefix: options.domainName.split(".")[0] ?? options.domainName,
      http: {
        method: request.method,
        path: request.path,
        protocol: "HTTP/1.1",
        sourceIp: options.sourceIp ?? SOURCE_IP,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: `${randomUUID().slice(0, 14)}=`,
      routeKey: "$default",
      stage: options.stage,
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: request.base64 === true,
  };
}

/**
 * A REST API proxy integration (payload format 1.0) event, from a `/{proxy+}` resource. `path` is the resource path;
 * `requestContext.path` is the path the client used (with the stage, on the execute-api domain).
 */
export function restApiEvent(request: ClientRequest, options: ApiOptions & { executeApiDomain?: boolean }): APIGatewayProxyEvent {
  const now = new Date();
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of standardHeaders(request, options)) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of request.query ?? []) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = (request.query?.length ?? 0) > 0;
  const userAgent = headers["User-Agent"] ?? null;
  return {
    resource: "/{proxy+}",
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: { proxy: request.path.replace(/^\//, "") },
    stageVariables: null,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      authorizer: null,
      domainName: options.domainName,
      domainPrefix: options.domainName.split(".")[0] ?? options.domainName,
      extendedRequestId: `${randomUUID().slice(0, 14)}=`,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: options.sourceIp ?? SOURCE_IP,
        user: null,
        userAgent,
        userArn: null,
      },
      path: options.executeApiDomain ? `/${options.stage}${request.path}` : request.path,
      protocol: "HTTP/1.1",
      requestId: randomUUID(),
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: "abc123",
      resourcePath: "/{proxy+}",
      stage: options.stage,
    },
    body: encodedBody(request) ?? null,
    isBase64Encoded: request.base64 === true,
  };
}

/** A Lambda context as the Node.js runtime passes it. */
export function lambdaContext(functionName = "mcp-sso-gateway"): Context {
  const region = "eu-west-1";
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[$LATEST]${randomUUID().replace(/-/g, "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
