/**
 * Every variant of the stack the project offers, synthesized and checked by AWS's CloudFormation linter (cfn-lint,
 * against CloudFormation's resource schemas): each front door, with and without a custom domain and WAF, in a VPC,
 * with every kind of credential, with several backend servers, with tracing and capacity options. Zero errors; the warnings allowed are listed with
 * the reason each is right.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as kms from "aws-cdk-lib/aws-kms";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SETTINGS, synthConstruct, synthSettings, synthStack } from "../support/synth-stack.js";

const CERTIFICATE = { us: "arn:aws:acm:us-east-1:111122223333:certificate/abc" };

/** Each variant: the app holding it (a custom domain's edge function brings a stack of its own). */
const VARIANTS: Record<string, () => App> = {
  "functionUrl": () => synthStack("functionUrl").app,
  "functionUrl, custom domain, WAF, alarm e-mail, tracing, reserved concurrency": () =>
    synthStack("functionUrl", {
      domainName: "mcp.example.com",
      certificateArn: CERTIFICATE.us,
      webAclArn: "arn:aws:wafv2:us-east-1:111122223333:global/webacl/mcp/1",
      alarmEmail: "ops@example.com",
      tracing: true,
      reservedConcurrency: 10,
    }).app,
  "httpApi, throttled": () => synthStack("httpApi", { throttlingRateLimit: 100, throttlingBurstLimit: 50 }).app,
  "httpApi, custom domain, WAF": () =>
    synthStack("httpApi", { domainName: "mcp.example.com", certificateArn: CERTIFICATE.us, webAclArn: "arn:aws:wafv2:us-east-1:111122223333:global/webacl/mcp/1" }).app,
  "restStreaming, regional WAF": () => synthStack("restStreaming", { webAclArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/mcp/1" }).app,
  "restStreaming, custom domain, WAF, tracing, throttled": () =>
    synthStack("restStreaming", {
      domainName: "mcp.example.com",
      certificateArn: CERTIFICATE.us,
      webAclArn: "arn:aws:wafv2:us-east-1:111122223333:global/webacl/mcp/1",
      tracing: true,
      throttlingRateLimit: 100,
    }).app,
  // The user's existing VPC, where the private backend is (a VPC made in the test would carry placeholder zones).
  "functionUrl in a VPC": () =>
    synthConstruct("functionUrl", (stack) => ({
      vpc: ec2.Vpc.fromVpcAttributes(stack, "Vpc", { vpcId: "vpc-0123456789abcdef0", availabilityZones: ["eu-west-1a", "eu-west-1b"], privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] }),
    })).app,
  "httpApi with a backend credential, a backend token key, a session key in SSM and a policy KMS key": () =>
    synthConstruct("httpApi", (stack) => ({
      backendCredential: { header: "X-Api-Key", secret: new secretsmanager.Secret(stack, "BackendKey") },
      backendToken: { header: "X-Gateway-Token", key: ssm.StringParameter.fromSecureStringParameterAttributes(stack, "TokenKey", { parameterName: "/gw/token-key" }) },
      sessionKey: ssm.StringParameter.fromSecureStringParameterAttributes(stack, "SessionKey", { parameterName: "/gw/session-key" }),
      policyKmsKey: kms.Key.fromKeyArn(stack, "Key", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    })).app,
  "functionUrl with several backend servers: a secret two of them share, an SSM parameter, a token signing key": () =>
    synthConstruct("functionUrl", (stack) => {
      const shared = new secretsmanager.Secret(stack, "SharedKey");
      return {
        backendUrl: undefined,
        backendToken: { key: new secretsmanager.Secret(stack, "TokenKey") },
        backends: [
          { name: "github", url: "https://github-mcp.internal/mcp", credential: { header: "X-Api-Key", secret: shared } },
          { name: "wiki", url: "https://wiki-mcp.internal/mcp", credential: { header: "X-Wiki-Key", secret: shared }, token: { header: "X-Gateway-Token" } },
          { name: "jira", url: "https://jira-mcp.internal/mcp", credential: { header: "X-Api-Key", parameter: ssm.StringParameter.fromSecureStringParameterAttributes(stack, "JiraKey", { parameterName: "/gw/jira-key" }) } },
        ],
      };
    }).app,
  "restStreaming with several backend servers from context, one with a token exchange": () =>
    synthSettings({
      ...SETTINGS,
      backendUrl: undefined,
      frontDoor: "restStreaming",
      backends: [
        { name: "github", url: "https://github-mcp.internal/mcp", credential: { header: "X-Api-Key", secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:github-mcp-key-AbC123" } },
        { name: "jira", url: "https://jira-mcp.internal/mcp", timeoutMs: 10_000 },
        {
          name: "docs",
          url: "https://docs-mcp.internal/mcp",
          tokenExchange: { idp: "okta", issuer: "https://acme.okta.com/oauth2/aus1", clientId: "0oa-gw", audience: "api://docs", scope: "docs.read", clientSecret: { ssmParameter: "/gw/okta-secret" } },
        },
      ],
    }).app,
};

/**
 * Warnings that are right here. W3005: CDK makes the function depend on its role's policy explicitly (so the role can
 * act before the function first runs) although it already references the role.
 */
const ACCEPTED_WARNINGS = new Set(["W3005"]);

interface Finding {
  Rule: { Id: string };
  Level: "Error" | "Warning" | "Informational";
  Message: string;
  Filename: string;
}

function cfnLint(files: string[]): Promise<Finding[]> {
  return new Promise((resolve, reject) => {
    execFile("cfn-lint", ["--format", "json", "--", ...files], { maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error("cfn-lint is required to run these tests: pip install cfn-lint"));
        return;
      }
      try {
        resolve(JSON.parse(stdout || "[]") as Finding[]);
      } catch {
        reject(new Error(`cfn-lint did not answer JSON: ${stdout}${stderr}`));
      }
    });
  });
}

const directory = mkdtempSync(join(tmpdir(), "cfn-lint-"));
const filesOf = new Map<string, string[]>();
let findings: Finding[] = [];

// Synthesis bundles the function once per variant (esbuild, about a second each on a busy 2-core machine).
beforeAll(async () => {
  for (const [variant, synth] of Object.entries(VARIANTS)) {
    const assembly = synth().synth();
    const files = assembly.stacks.map((stack, i) => {
      const file = join(directory, `${filesOf.size}-${i}-${stack.stackName}.template.json`);
      writeFileSync(file, JSON.stringify(stack.template, null, 1));
      return file;
    });
    filesOf.set(variant, files);
  }
  findings = await cfnLint([...filesOf.values()].flat());
}, 240_000);

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("cfn-lint on every variant of the stack", () => {
  it.each(Object.keys(VARIANTS))("%s: no errors, no warnings but the accepted ones", (variant) => {
    const files = new Set(filesOf.get(variant));
    expect(files.size).toBeGreaterThan(0);
    const own = findings.filter((f) => files.has(f.Filename));
    expect(own.filter((f) => f.Level === "Error").map((f) => `${f.Rule.Id} ${f.Message}`)).toEqual([]);
    expect(own.filter((f) => f.Level === "Warning" && !ACCEPTED_WARNINGS.has(f.Rule.Id)).map((f) => `${f.Rule.Id} ${f.Message}`)).toEqual([]);
  });

  it("would report a template CloudFormation refuses (a function URL with an invoke mode that does not exist)", async () => {
    const [file] = filesOf.get("functionUrl") ?? [];
    const template = JSON.parse(await import("node:fs/promises").then((fs) => fs.readFile(file ?? "", "utf8"))) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    for (const resource of Object.values(template.Resources)) if (resource.Type === "AWS::Lambda::Url") resource.Properties.InvokeMode = "STREAM";
    const broken = join(directory, "broken.template.json");
    writeFileSync(broken, JSON.stringify(template));
    const errors = (await cfnLint([broken])).filter((f) => f.Level === "Error");
    expect(errors.map((f) => f.Message).join("\n")).toMatch(/STREAM/);
  });
});
