/**
 * The Lambda@Edge function that restores the 401 challenge's header name (functions/edge/restore-challenge.ts), built
 * for CloudFront: compiled to one CommonJS file with no imports, x86_64 and no environment (Lambda@Edge allows neither
 * arm64 nor variables), in us-east-1 (CDK places it there, in a stack of its own when the gateway's stack is elsewhere).
 */
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { Duration, Validations } from "aws-cdk-lib";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { transformSync } from "esbuild";

const SOURCE = fileURLToPath(new URL("../../functions/edge/restore-challenge.ts", import.meta.url));

/** The edge function's code, as it runs there. */
export function challengeRestorerCode(): string {
  return transformSync(readFileSync(SOURCE, "utf8"), { loader: "ts", format: "cjs", target: "node22" }).code;
}

export function challengeRestorer(scope: Construct): cloudfront.EdgeLambda {
  const fn = new cloudfront.experimental.EdgeFunction(scope, "ChallengeRestorer", {
    description: "mcp-sso-gateway: gives the 401 challenge its WWW-Authenticate name back",
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: lambda.Code.fromInline(challengeRestorerCode()),
    memorySize: 128,
    timeout: Duration.seconds(5),
  });
  // Acknowledged on the function itself, since CDK may place it in a stack of its own (us-east-1).
  const findings: Array<[string, string]> = [
    [
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      "Lambda@Edge writes its logs to log groups it creates in each Region where CloudFront ran it (/aws/lambda/us-east-1.<name>), unknown at synth: the AWS-managed logging minimum, and the function reads nothing else.",
    ],
    ["AwsSolutions-L1", "Pinned to Node.js 22, a runtime Lambda@Edge supports and the one the gateway's tests run on; move to a newer one deliberately."],
  ];
  for (const [id, reason] of findings) Validations.of(fn.lambda).acknowledge({ id, reason });
  return { functionVersion: fn.currentVersion, eventType: cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE };
}
