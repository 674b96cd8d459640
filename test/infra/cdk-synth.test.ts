/** `npx cdk synth` as a deployer runs it: offline, for every front door, and refusing bad or unknown settings by name. */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CDK = join(ROOT, "node_modules/.bin/cdk");
const outputs: string[] = [];

const REQUIRED = {
  issuer: "https://dev-123456.okta.com/oauth2/default",
  audience: "api://mcp",
  jwksUri: "https://dev-123456.okta.com/oauth2/default/v1/keys",
  backendUrl: "https://mcp.internal.example.com/mcp",
};

async function synth(context: Record<string, string>, region?: string): Promise<{ code: number; output: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "cdk-out-"));
  outputs.push(dir);
  const args = ["synth", "--quiet", "--output", dir, ...Object.entries(context).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  return new Promise((resolve) => {
    const env = { ...process.env, CDK_DISABLE_VERSION_CHECK: "1", ...(region ? { AWS_REGION: region } : {}) };
    execFile(CDK, args, { cwd: ROOT, timeout: 120_000, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}`, dir });
    });
  });
}

afterAll(() => Promise.all(outputs.map((dir) => rm(dir, { recursive: true, force: true }))));

// A real synth bundles the function with esbuild: about 10 s alone, more on a busy 2-core machine.
describe("cdk synth", { timeout: 120_000 }, () => {
  it.each([
    ["functionUrl", "AWS::Lambda::Url"],
    ["httpApi", "AWS::ApiGatewayV2::Api"],
    ["restStreaming", "AWS::ApiGateway::RestApi"],
  ])("succeeds offline for the %s front door, with every recommended feature flag set", async (frontDoor, frontDoorType) => {
    const { code, output, dir } = await synth({ ...REQUIRED, frontDoor });
    expect(output).not.toMatch(/error/i);
    expect(output).not.toMatch(/feature flags are not configured/);
    expect(code).toBe(0);
    const template = JSON.parse(await readFile(join(dir, "McpSsoGateway.template.json"), "utf8")) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain("AWS::Lambda::Function");
    expect(types).toContain(frontDoorType);
    expect(types).toContain("AWS::SecretsManager::Secret");
    // The stack's own warnings (not Node's about its version, which the CLI prints on Node 20).
    if (frontDoor === "restStreaming") expect(output).toMatch(/^WARNING frontDoor=restStreaming without a custom domain: .*use the functionUrl front door/m);
    else expect(output).not.toMatch(/^WARNING/m);
  });

  it.each(["us-east-1", "eu-west-1"])("succeeds with a custom domain deployed to %s: CloudFront, and its edge function beside the stack or in a us-east-1 stack of its own, every cdk-nag finding acknowledged", async (region) => {
    const domain = { domainName: "mcp.example.com", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/abc" };
    const { code, output, dir } = await synth({ ...REQUIRED, ...domain }, region);
    expect(output).not.toMatch(/error/i);
    expect(code).toBe(0);
    const templates = (await readdir(dir)).filter((file) => file.endsWith(".template.json"));
    expect(templates.some((file) => file.startsWith("edge-lambda-stack"))).toBe(region !== "us-east-1");
    const gateway = await readFile(join(dir, "McpSsoGateway.template.json"), "utf8");
    expect(gateway).toContain('"AWS::CloudFront::Distribution"');
  });

  it("defaults to the function URL front door", async () => {
    const { code, dir } = await synth(REQUIRED);
    expect(code).toBe(0);
    const template = await readFile(join(dir, "McpSsoGateway.template.json"), "utf8");
    expect(template).toContain('"AWS::Lambda::Url"');
    expect(template).not.toContain("AWS::ApiGateway");
  });

  it("refuses a misspelled key, naming the setting it most likely meant, without a stack trace", async () => {
    const { code, output } = await synth({ ...REQUIRED, requiredScope: "mcp.tools" });
    expect(code).not.toBe(0);
    expect(output).toContain("'requiredScope' is not a setting: did you mean 'requiredScopes'?");
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("refuses a stack name CloudFormation would refuse, without a stack trace", async () => {
    const { code, output } = await synth({ ...REQUIRED, stackName: "my_gateway" });
    expect(code).not.toBe(0);
    expect(output).toContain("'stackName' must start with a letter and hold only letters, digits and hyphens");
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("fails with a message naming each missing setting", async () => {
    const { code, output } = await synth({ issuer: REQUIRED.issuer });
    expect(code).not.toBe(0);
    expect(output).toContain("'audience' is required");
    expect(output).toContain("'backendUrl' or 'backends' is required");
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("succeeds with several servers from -c backends: MCP_BACKENDS for the function, each server's endpoint as an output", async () => {
    const { backendUrl: _, ...oneServerless } = REQUIRED;
    const backends = [
      { name: "github", url: "https://github-mcp.internal/mcp", credential: { header: "X-Api-Key", secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:github-mcp-key-AbC123" } },
      { name: "jira", url: "https://jira-mcp.internal/mcp", timeoutMs: 10000 },
    ];
    const { code, output, dir } = await synth({ ...oneServerless, backends: JSON.stringify(backends) });
    expect(output).not.toMatch(/error/i);
    expect(code).toBe(0);
    const template = JSON.parse(await readFile(join(dir, "McpSsoGateway.template.json"), "utf8")) as {
      Resources: Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }>;
      Outputs: Record<string, unknown>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === "AWS::Lambda::Function");
    expect(JSON.parse(String(fn?.Properties.Environment?.Variables.MCP_BACKENDS))).toEqual([
      { ...backends[0], credential: { header: "X-Api-Key", secretId: backends[0]?.credential?.secretArn } },
      backends[1],
    ]);
    expect(template.Outputs).toHaveProperty("McpServerEndpoints");
  });

  it("refuses -c backendUrl beside -c backends, naming both, without a stack trace", async () => {
    const { code, output } = await synth({ ...REQUIRED, backends: '[{"name":"a","url":"https://a.internal/mcp"}]' });
    expect(code).not.toBe(0);
    expect(output).toContain("'backendUrl' and 'backends' are both set");
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("fails with a message naming a malformed setting", async () => {
    const { code, output } = await synth({ ...REQUIRED, jwksUri: "http://idp.example.com/keys", frontDoor: "lambdaUrl" });
    expect(code).not.toBe(0);
    expect(output).toContain("'jwksUri' must use https");
    expect(output).toContain("'frontDoor' must be one of functionUrl, httpApi, restStreaming");
  });
});
