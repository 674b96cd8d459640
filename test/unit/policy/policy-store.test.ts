/** The policy store over a real policy file: caching, reloading, last good policy, fail closed. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PolicyStore } from "../../../functions/policy/policy-store.js";
import { FilePolicySource, type PolicySource } from "../../../functions/policy/sources.js";
import { CollectingLogger } from "../../support/gateway.js";

let dir: string;
let file: string;
let clock: number;
let logger: CollectingLogger;

function store(cacheSeconds = 60, source: PolicySource = new FilePolicySource(file)): PolicyStore {
  return new PolicyStore(source, { cacheSeconds, logger, now: () => clock });
}

/** Counts how often the source is read. */
function counting(source: PolicySource): PolicySource & { reads: number } {
  const counted = {
    location: source.location,
    reads: 0,
    load: () => {
      counted.reads++;
      return source.load();
    },
  };
  return counted;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "policy-store-"));
  file = join(dir, "policy.yaml");
  clock = 1_000_000;
  logger = new CollectingLogger();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("PolicyStore", () => {
  it("loads the policy once and serves it from cache until the cache time has passed", async () => {
    await writeFile(file, "tools:\n  echo: ['*']\n");
    const source = counting(new FilePolicySource(file));
    const policies = store(60, source);
    const first = await policies.current();
    expect(first?.rules).toHaveLength(1);
    await writeFile(file, "tools:\n  echo: ['*']\n  add: ['*']\n");
    clock += 59_999;
    expect(await policies.current()).toBe(first);
    expect(source.reads).toBe(1);
    clock += 1;
    expect((await policies.current())?.rules).toHaveLength(2);
    expect(source.reads).toBe(2);
  });

  it("reads the source once for concurrent requests", async () => {
    await writeFile(file, "rules: ['true']\n");
    const source = counting(new FilePolicySource(file));
    const policies = store(60, source);
    const results = await Promise.all([policies.current(), policies.current(), policies.current()]);
    expect(new Set(results).size).toBe(1);
    expect(source.reads).toBe(1);
  });

  it("does not compile unchanged documents again, and logs only real changes", async () => {
    await writeFile(file, "rules: ['true']\n");
    const policies = store(0);
    const first = await policies.current();
    expect(await policies.current()).toBe(first);
    expect(logger.lines.filter((l) => l.message === "policy loaded")).toHaveLength(1);
  });

  it("keeps the last good policy when the document becomes invalid, and logs the error each time it is read", async () => {
    await writeFile(file, "tools:\n  echo: ['*']\n");
    const policies = store(1);
    const good = await policies.current();
    await writeFile(file, "tools:\n  echo: []\n");
    clock += 1000;
    expect(await policies.current()).toBe(good);
    clock += 1000;
    expect(await policies.current()).toBe(good);
    const failures = logger.lines.filter((l) => l.message === "policy reload failed; keeping the last good policy");
    expect(failures).toHaveLength(2);
    expect(failures[0]?.fields.error).toBe(`${file}: tools.echo: must be a role name, a non-empty list of role names, or { roles, when } (line 2, column 9)`);
  });

  it("counts every failed load", async () => {
    let failures = 0;
    const policies = new PolicyStore(new FilePolicySource(join(dir, "missing.yaml")), {
      cacheSeconds: 0,
      logger,
      metrics: { policyLoadFailed: () => failures++ },
      now: () => clock,
    });
    await policies.current();
    clock += 1000;
    await policies.current();
    expect(failures).toBe(2);
  });

  it("keeps the last good policy when the source cannot be read", async () => {
    await writeFile(file, "rules: ['true']\n");
    const policies = store(1);
    const good = await policies.current();
    await rm(file);
    clock += 1000;
    expect(await policies.current()).toBe(good);
    expect(logger.lines.at(-1)?.message).toBe("policy reload failed; keeping the last good policy");
  });

  it("answers undefined (fail closed) while no policy ever loaded, retrying at most once a second", async () => {
    const source = counting(new FilePolicySource(join(dir, "missing.yaml")));
    const policies = store(60, source);
    expect(await policies.current()).toBeUndefined();
    expect(await policies.current()).toBeUndefined();
    expect(source.reads).toBe(1);
    expect(logger.lines.at(-1)).toMatchObject({ level: "error", message: "no policy could be loaded; every MCP request is refused" });
    clock += 1000;
    await writeFile(join(dir, "missing.yaml"), "rules: ['true']\n");
    expect(await policies.current()).toBeDefined();
    expect(source.reads).toBe(2);
  });

  it("refuses a document whose CEL does not compile, naming the rule", async () => {
    await writeFile(file, "rules:\n- 'true'\n- 'request.method == \"GET\"'\n");
    expect(await store().current()).toBeUndefined();
    expect(String(logger.lines.at(-1)?.fields.error)).toMatch(new RegExp(`^${file} rules\\[1\\]: CEL is not valid here`));
  });
});
