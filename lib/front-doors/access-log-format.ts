/**
 * The API Gateway access-log line: JSON with the standard fields plus what tells the front door's part from the
 * function's (how long the integration took, its status and its error), so a 5xx can be placed at a glance. The two
 * APIs name the same facts with different `$context` variables.
 */
import * as apigw from "aws-cdk-lib/aws-apigateway";

/** The fields both APIs name alike. */
const REQUEST_FIELDS = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  path: "$context.path",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  error: "$context.error.message",
};

const HTTP_API_FIELDS = {
  ...REQUEST_FIELDS,
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  integrationError: "$context.integrationErrorMessage",
};

const REST_API_FIELDS = {
  ...REQUEST_FIELDS,
  extendedRequestId: "$context.extendedRequestId",
  integrationLatency: "$context.integration.latency",
  integrationStatus: "$context.integration.status",
  integrationError: "$context.integration.error",
};

export const HTTP_API_ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(JSON.stringify(HTTP_API_FIELDS));
export const REST_API_ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(JSON.stringify(REST_API_FIELDS));
