/**
 * What an AWS engineer reviewing the stack checks, one assertion per rule: nothing touched outside the stack, the
 * function's rights limited to its own log group, alarms of one stack blind to another's metrics and sent somewhere,
 * capacity and tracing as configured (tracing on both sides or neither), access logs that place a failure.
 */
import { Annotations, Match } from "aws-cdk-lib/assertions";
import * as cx from "aws-cdk-lib/cx-api";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FUNCTION_DIMENSION, METRICS_NAMESPACE } from "../../functions/metrics.js";
import { FRONT_DOORS_UNDER_TEST, policyStatements, synthStack } from "../support/synth-stack.js";

describe.each(FRONT_DOORS_UNDER_TEST)("the %s stack touches nothing outside itself", (frontDoor) => {
  const { template } = synthStack(frontDoor);

  it("creates no account-wide API Gateway setting and no role for API Gateway", () => {
    template.resourceCountIs("AWS::ApiGateway::Account", 0);
    const roles = Object.values(template.findResources("AWS::IAM::Role")) as Array<{ Properties: { AssumeRolePolicyDocument: unknown } }>;
    expect(JSON.stringify(roles.map((r) => r.Properties.AssumeRolePolicyDocument))).not.toContain("apigateway.amazonaws.com");
  });

  it("lets the function write its own log group alone (no AWSLambdaBasicExecutionRole, no logs:* on every group)", () => {
    const roles = Object.values(template.findResources("AWS::IAM::Role")) as Array<{ Properties: { ManagedPolicyArns?: unknown } }>;
    expect(JSON.stringify(roles.map((r) => r.Properties.ManagedPolicyArns ?? []))).not.toContain("AWSLambdaBasicExecutionRole");
    const logs = policyStatements(template).filter((s) => JSON.stringify(s.Action).includes("logs:"));
    expect(logs).toEqual([
      { Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Effect: "Allow", Resource: { "Fn::GetAtt": [expect.stringMatching(/^GatewayFunctionLogs/), "Arn"] } },
    ]);
    template.hasResourceProperties("AWS::Lambda::Function", { LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp("^GatewayFunctionLogs") } } });
  });

  it("alarms on this stack's metrics alone, and notifies a topic", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")) as Array<{ Properties: Record<string, unknown> }>;
    expect(alarms).toHaveLength(4);
    for (const { Properties: alarm } of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^GatewayAlarmTopic/) }]);
      const dimensions = alarm.Dimensions as Array<{ Name: string; Value: unknown }>;
      // Each alarm is keyed by something only this stack has: its function, or its API.
      const own = dimensions.filter((d) => ["FunctionName", FUNCTION_DIMENSION, "ApiId", "ApiName"].includes(d.Name));
      expect(own, JSON.stringify(alarm)).not.toEqual([]);
      if (alarm.Namespace === METRICS_NAMESPACE) {
        expect(dimensions).toEqual(expect.arrayContaining([{ Name: FUNCTION_DIMENSION, Value: { Ref: expect.stringMatching(/^GatewayFunction[0-9A-F]{8}$/) } }]));
      }
    }
    template.resourceCountIs("AWS::SNS::Topic", 1);
    template.hasResourceProperties("AWS::SNS::TopicPolicy", { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) } });
  });

  it("traces neither the function nor the stage unless asked", () => {
    const fn = Object.values(template.findResources("AWS::Lambda::Function"))[0] as { Properties: { TracingConfig?: { Mode: string } } };
    expect(fn.Properties.TracingConfig?.Mode ?? "PassThrough").toBe("PassThrough");
    for (const stage of Object.values(template.findResources("AWS::ApiGateway::Stage")) as Array<{ Properties: { TracingEnabled?: boolean } }>) {
      expect(stage.Properties.TracingEnabled ?? false).toBe(false);
    }
    expect(JSON.stringify(policyStatements(template))).not.toContain("xray:");
  });
});

describe("names that are unique per stack", () => {
  it("gives two REST stacks different API names, so their 5XXError alarms (keyed by API name) never mix", () => {
    const names = ["One", "Two"].map((id) => {
      const { template } = synthStack("restStreaming", {}, undefined, id);
      const api = Object.values(template.findResources("AWS::ApiGateway::RestApi"))[0] as { Properties: { Name: string } };
      template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "5XXError", Dimensions: Match.arrayWith([{ Name: "ApiName", Value: api.Properties.Name }]) });
      return api.Properties.Name;
    });
    expect(names[0]).not.toBe(names[1]);
  });
});

describe("alarm notifications", () => {
  it("mails the created topic when an address is given", () => {
    const { template } = synthStack("functionUrl", { alarmEmail: "oncall@example.com" });
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "oncall@example.com", TopicArn: { Ref: Match.stringLikeRegexp("^GatewayAlarmTopic") } });
  });

  it("notifies the user's own topic, creating none", () => {
    const arn = "arn:aws:sns:eu-west-1:111122223333:platform-alarms";
    const { template } = synthStack("functionUrl", { alarmTopicArn: arn });
    template.resourceCountIs("AWS::SNS::Topic", 0);
    for (const alarm of Object.values(template.findResources("AWS::CloudWatch::Alarm")) as Array<{ Properties: { AlarmActions: unknown } }>) {
      expect(alarm.Properties.AlarmActions).toEqual([arn]);
    }
  });
});

describe("capacity", () => {
  it("reserves concurrency for the function when asked, and none by default", () => {
    synthStack("functionUrl", { reservedConcurrency: 50 }).template.hasResourceProperties("AWS::Lambda::Function", { ReservedConcurrentExecutions: 50 });
    synthStack("functionUrl").template.hasResourceProperties("AWS::Lambda::Function", { ReservedConcurrentExecutions: Match.absent() });
  });

  it("throttles the HTTP API's stage", () => {
    synthStack("httpApi", { throttlingRateLimit: 100, throttlingBurstLimit: 200 }).template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });

  it("throttles the REST API's stage", () => {
    synthStack("restStreaming", { throttlingRateLimit: 100, throttlingBurstLimit: 200 }).template.hasResourceProperties("AWS::ApiGateway::Stage", {
      MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: "*", ResourcePath: "/*", ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })]),
    });
  });
});

describe("tracing, on both sides or neither", () => {
  it.each(FRONT_DOORS_UNDER_TEST)("%s: traces the function, and the stage where the front door has one that traces", (frontDoor) => {
    const { template } = synthStack(frontDoor, { tracing: true });
    template.hasResourceProperties("AWS::Lambda::Function", { TracingConfig: { Mode: "Active" } });
    if (frontDoor === "restStreaming") template.hasResourceProperties("AWS::ApiGateway::Stage", { TracingEnabled: true });
    expect(JSON.stringify(policyStatements(template))).toContain("xray:PutTraceSegments");
  });
});

describe("access logs", () => {
  it.each([
    ["httpApi", "AWS::ApiGatewayV2::Stage", "AccessLogSettings", ["$context.integrationLatency", "$context.integrationErrorMessage", "$context.integrationStatus", "$context.error.message"]],
    ["restStreaming", "AWS::ApiGateway::Stage", "AccessLogSetting", ["$context.integration.latency", "$context.integration.error", "$context.integration.status", "$context.error.message"]],
  ] as const)("%s: log the integration's latency, status and error beside the request's", (frontDoor, type, property, fields) => {
    const stage = Object.values(synthStack(frontDoor).template.findResources(type))[0] as { Properties: Record<string, { Format: string }> };
    const format = JSON.parse(stage.Properties[property]?.Format ?? "{}") as Record<string, string>;
    for (const field of [...fields, "$context.requestId", "$context.status"]) expect(Object.values(format)).toContain(field);
  });
});

describe("the REST front door without a custom domain", () => {
  it("warns at synth that host-root discovery is not routable there, naming the fix", () => {
    const { stack } = synthStack("restStreaming");
    Annotations.fromStack(stack).hasWarning("*", Match.stringLikeRegexp("execute-api URL starts with the stage.*-c domainName=.*functionUrl front door"));
  });

  it("does not warn with a custom domain, nor on the other front doors", () => {
    const withDomain = synthStack("restStreaming", { domainName: "mcp.example.com", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/abc" });
    for (const { stack } of [withDomain, synthStack("functionUrl"), synthStack("httpApi")]) {
      Annotations.fromStack(stack).hasNoWarning("*", Match.stringLikeRegexp("execute-api URL"));
    }
  });
});

describe("cdk.json", () => {
  it("sets every feature flag this CDK version recommends, to its recommended value, as cdk init does", () => {
    const context = (JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as { context: Record<string, unknown> }).context;
    for (const [flag, value] of Object.entries(cx.CURRENTLY_RECOMMENDED_FLAGS)) expect(context[flag], flag).toEqual(value);
  });
});
