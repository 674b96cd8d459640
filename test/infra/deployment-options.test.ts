/** The stack's context keys read and refused as a deployer types them: unknown keys with the nearest known one, bad values and combinations by name. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../functions/errors.js";
import { KNOWN_CONTEXT_KEYS, refuseUnknownContextKeys } from "../../lib/context-keys.js";
import { deploymentOptionsFromContext } from "../../lib/deployment-options.js";
import type { FrontDoor } from "../../lib/gateway-settings.js";

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const options = (context: Record<string, string>, frontDoor: FrontDoor = "functionUrl") => deploymentOptionsFromContext((key) => context[key], frontDoor);

describe("unknown context keys", () => {
  it("refuses a misspelled security setting, naming the one it most likely meant", () => {
    expect(problemsOf(() => refuseUnknownContextKeys({ requiredScope: "mcp.tools", issuer: "https://idp" }))[0]).toMatch(/^'requiredScope' is not a setting: did you mean 'requiredScopes'\?/);
    expect(problemsOf(() => refuseUnknownContextKeys({ Audience: "x" }))[0]).toContain("did you mean 'audience'?");
    expect(problemsOf(() => refuseUnknownContextKeys({ clientId: "x" }))[0]).toContain("did you mean 'clientIds'?");
  });

  it("names every unknown key at once, and lists the known ones for a key like none of them", () => {
    const problems = problemsOf(() => refuseUnknownContextKeys({ frontdoor: "httpApi", zzzz: "1" }));
    expect(problems[0]).toContain("did you mean 'frontDoor'?");
    expect(problems[1]).toMatch(/^'zzzz' is not a setting \(known: issuer, audience, /);
  });

  it("leaves CDK's own keys alone: feature flags, its aws:cdk: keys, cached lookups", () => {
    expect(() =>
      refuseUnknownContextKeys({
        "@aws-cdk/core:checkSecretUsage": true,
        "aws:cdk:enable-path-metadata": true,
        "availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a"],
        "acknowledged-issue-numbers": [],
        ...Object.fromEntries(KNOWN_CONTEXT_KEYS.map((key) => [key, "x"])),
      }),
    ).not.toThrow();
  });
});

describe("deployment options", () => {
  it("reads numbers, booleans and ARNs", () => {
    expect(options({ reservedConcurrency: "20", tracing: "true", memorySize: "1024", alarmEmail: "ops@example.com" })).toMatchObject({ reservedConcurrency: 20, tracing: true, memorySize: 1024, alarmEmail: "ops@example.com" });
    expect(options({}).tracing).toBe(false);
  });

  it("refuses malformed values by key", () => {
    const problems = problemsOf(() => options({ reservedConcurrency: "lots", tracing: "yes", memorySize: "64", alarmTopicArn: "my-topic", alarmEmail: "ops" }));
    expect(problems).toEqual(
      expect.arrayContaining([
        "'reservedConcurrency' must be a whole number from 1 to 100000, not \"lots\"",
        "'tracing' must be true or false, not \"yes\"",
        "'memorySize' must be a whole number from 128 to 10240, not \"64\"",
        "'alarmTopicArn' must be an ARN of sns, not \"my-topic\"",
        "'alarmEmail' must be an e-mail address, not \"ops\"",
      ]),
    );
  });

  it("refuses combinations AWS would refuse at deploy time, saying what works instead", () => {
    expect(problemsOf(() => options({ domainName: "mcp.example.com" }))).toContain("'domainName' and 'certificateArn' go together: give both, or neither");
    for (const frontDoor of ["functionUrl", "httpApi", "restStreaming"] as const) {
      expect(problemsOf(() => options({ domainName: "mcp.example.com", certificateArn: "arn:aws:acm:eu-west-1:111122223333:certificate/x" }, frontDoor))[0]).toMatch(/'certificateArn' must be in us-east-1 \(CloudFront serves the custom domain/);
      expect(problemsOf(() => options({ domainName: "mcp.example.com", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/x", webAclArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/a/1" }, frontDoor))[0]).toMatch(/must be a CLOUDFRONT-scope web ACL/);
    }
    expect(problemsOf(() => options({ webAclArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/a/1" }, "httpApi"))[0]).toMatch(/needs 'domainName'.*HTTP APIs take none themselves/);
    expect(problemsOf(() => options({ webAclArn: "arn:aws:wafv2:us-east-1:111122223333:global/webacl/a/1" }))[0]).toMatch(/needs 'domainName'/);
    expect(problemsOf(() => options({ webAclArn: "arn:aws:wafv2:us-east-1:111122223333:global/webacl/a/1" }, "restStreaming"))[0]).toMatch(/must be a REGIONAL web ACL/);
    expect(problemsOf(() => options({ throttlingRateLimit: "100" }))[0]).toMatch(/bound the function with 'reservedConcurrency'/);
    expect(problemsOf(() => options({ alarmTopicArn: "arn:aws:sns:eu-west-1:111122223333:t", alarmEmail: "a@example.com" }))[0]).toMatch(/^'alarmEmail' subscribes to the topic the stack creates/);
  });

  it("accepts what each front door can have", () => {
    expect(problemsOf(() => options({ domainName: "mcp.example.com", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/x", webAclArn: "arn:aws:wafv2:us-east-1:111122223333:global/webacl/a/1" }))).toEqual([]);
    expect(problemsOf(() => options({ throttlingRateLimit: "100", throttlingBurstLimit: "50" }, "httpApi"))).toEqual([]);
    expect(problemsOf(() => options({ webAclArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/a/1" }, "restStreaming"))).toEqual([]);
    const onCloudFront = { domainName: "mcp.example.com", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/x", webAclArn: "arn:aws:wafv2:us-east-1:111122223333:global/webacl/a/1" };
    for (const frontDoor of ["httpApi", "restStreaming"] as const) expect(problemsOf(() => options(onCloudFront, frontDoor))).toEqual([]);
  });
});
