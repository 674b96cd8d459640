/**
 * `mcp-sso-gateway policy pin FILE --server NAME --from URL|FILE.json`: approves a server's definitions as they are
 * listed now, by writing their digests into the pins document FILE (`servers.<name>.pins`, pins/), and prints what
 * changed in each definition since it was last approved, so that the review is of the change itself.
 *
 * FILE holds pins only (and `version`, `description`): the command rewrites it whole, so a hand-written document
 * would lose its comments; the pins document merges with the others under the policy path as any document does. The
 * definitions approved are kept beside it (`<FILE without extension>.definitions.json`, to be versioned with it, not
 * pushed): they are what the next run's diff compares with.
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { dump } from "js-yaml";
import { PolicyError } from "../../errors.js";
import { definitionDigest } from "../../pins/definition-digest.js";
import { PIN_KINDS, type PinKind } from "../../pins/pin-set.js";
import { parsePolicyDocument } from "../../policy/document.js";
import { serverNameProblem } from "../../policy/server-name.js";
import { CommandFailure } from "../command-failure.js";
import { UsageError, parseOrUsage, refuseRepeatedOptions } from "../usage-error.js";
import type { PolicySubcommand } from "./command.js";
import { definitionDiff, wholeDefinition } from "./definition-diff.js";
import { listDefinitionsAt, readDefinitionsFile, type Definition, type ListedDefinitions } from "./listed-definitions.js";
import { positionals, reportFailures } from "./ssm-options.js";

const HELP = `Usage: mcp-sso-gateway policy pin FILE --server NAME --from URL|FILE.json [options]

Approves the definitions (tools, prompts, resource templates) server NAME lists now: writes their digests into the
pins document FILE (created when missing) as servers.NAME.pins, and prints what changed in each since its last
approval: descriptions and titles as word diffs ([-removed-]{+added+}), schema and other fields one by one
(+ added, - removed, ~ changed). Pins of definitions no longer listed are dropped. Then review, commit, and
'policy push FILE'. FILE holds pins only: keep them in a document of their own (e.g. pins.yaml).
The definitions approved are kept in FILE's sidecar, <FILE without extension>.definitions.json (versioned with
FILE, never pushed), for the next diff.
  --server NAME        the server, as the gateway is configured with it
  --from URL|FILE      where the definitions are read: an MCP endpoint (the server itself, or the gateway's
                       /mcp/NAME while pinning is off or warn: under enforce a changed definition is hidden there
                       too), or a JSON file (a tools/list result, a list of tools, or { tools, prompts,
                       resourceTemplates }; only the kinds in it are pinned)
  --token JWT          bearer token for --from URL
  --pinning MODE       also set servers.NAME.pinning: enforce, warn (a roll-out: shown, logged) or off`;

const OPTIONS = {
  server: { type: "string" },
  from: { type: "string" },
  token: { type: "string" },
  pinning: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The field naming each kind's definitions, and how a change reads. */
const NAMED_BY: Record<PinKind, { field: string; noun: string }> = {
  tools: { field: "name", noun: "tool" },
  prompts: { field: "name", noun: "prompt" },
  resourceTemplates: { field: "uriTemplate", noun: "resource template" },
};

/** Top-level keys a pins document may hold. */
const PINS_DOCUMENT_KEYS = new Set(["version", "description", "servers"]);

type Sidecar = Record<string, Partial<Record<PinKind, Record<string, Definition>>>>;
type ServerSection = { pins?: Partial<Record<PinKind, Record<string, string>>>; pinning?: string };

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CommandFailure(`could not read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The pins document's servers, refusing a document that holds more than pins. */
function pinsDocument(file: string, text: string | undefined): { description?: string; servers: Record<string, ServerSection> } {
  if (text === undefined) return { servers: {} };
  let document;
  try {
    ({ document } = parsePolicyDocument({ origin: file, text }));
  } catch (err) {
    if (err instanceof PolicyError) throw new CommandFailure(`invalid: ${err.message}`, { cause: err });
    throw err;
  }
  const extra = Object.entries(document).filter(([key, value]) => !PINS_DOCUMENT_KEYS.has(key) && !(key === "rules" && Array.isArray(value) && value.length === 0));
  const grants = Object.entries(document.servers ?? {}).flatMap(([server, section]) =>
    Object.keys(section).filter((key) => key !== "pins" && key !== "pinning").map((key) => `servers.${server}.${key}`),
  );
  const more = [...extra.map(([key]) => key), ...grants];
  if (more.length > 0) {
    throw new CommandFailure(`${file} holds more than pins (${more.join(", ")}): this command rewrites its file, and would lose its comments; keep pins in a document of their own (e.g. pins.yaml), which merges with the others`);
  }
  return { ...(document.description === undefined ? {} : { description: document.description }), servers: (document.servers ?? {}) as Record<string, ServerSection> };
}

function sidecarPath(file: string): string {
  return `${file.replace(/\.(ya?ml|json)$/i, "")}.definitions.json`;
}

/** Pins one kind: prints each change, returns the new pins and definitions by name. */
function pinKind(kind: PinKind, listed: readonly Definition[], before: Readonly<Record<string, string>>, approved: Readonly<Record<string, Definition>>, sidecar: string, counts: Record<string, number>) {
  const { field, noun } = NAMED_BY[kind];
  const pins: Record<string, string> = {};
  const definitions: Record<string, Definition> = {};
  for (const definition of listed) {
    const name = definition[field];
    // The first of two entries of one name is the one clients keep, and the one the gateway checks.
    if (typeof name !== "string" || Object.hasOwn(pins, name)) continue;
    const digest = definitionDigest(definition);
    pins[name] = digest;
    definitions[name] = definition;
    const was = before[name];
    if (was === digest) {
      counts.unchanged!++;
      continue;
    }
    if (was === undefined) {
      counts.added!++;
      console.log(`+ ${noun} ${name}: not pinned before, now ${digest}`);
      console.log(wholeDefinition(definition).join("\n"));
      continue;
    }
    counts.changed!++;
    console.log(`~ ${noun} ${name}: changed, ${was} → ${digest}`);
    const previous = approved[name];
    if (previous !== undefined && definitionDigest(previous) === was) {
      console.log(definitionDiff(previous, definition).join("\n"));
    } else {
      console.log(`    (the definition approved as ${was} is not in ${sidecar}: the whole new definition)`);
      console.log(wholeDefinition(definition).join("\n"));
    }
  }
  for (const name of Object.keys(before)) {
    if (Object.hasOwn(pins, name)) continue;
    counts.removed!++;
    console.log(`- ${noun} ${name}: no longer listed; its pin ${before[name]} is dropped`);
  }
  const sorted = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { pins: sorted(pins), definitions: sorted(definitions) };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals: given } = parseOrUsage(HELP, () => parseArgs({ args, allowPositionals: true, options: OPTIONS }));
  refuseRepeatedOptions(args, OPTIONS, HELP);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [file] = positionals(given, ["FILE"], HELP) as [string];
  const server = values.server;
  if (server === undefined) throw new UsageError(`--server is required\n\n${HELP}`);
  const problem = serverNameProblem(server);
  if (problem) throw new UsageError(`--server: ${problem}`);
  if (values.from === undefined) throw new UsageError(`--from is required\n\n${HELP}`);
  if (values.pinning !== undefined && !["enforce", "warn", "off"].includes(values.pinning)) throw new UsageError(`--pinning must be enforce, warn or off, not ${JSON.stringify(values.pinning)}`);
  const from = values.from;

  return reportFailures(1, async () => {
    const document = pinsDocument(file, await readIfPresent(file));
    const sidecar = sidecarPath(file);
    const sidecarText = await readIfPresent(sidecar);
    const kept: Sidecar = sidecarText === undefined ? {} : (JSON.parse(sidecarText) as Sidecar);
    const listed: ListedDefinitions = /^https?:\/\//i.test(from) ? await listDefinitionsAt(from, values.token) : await readDefinitionsFile(from);
    const section: ServerSection = (document.servers[server] ??= {});
    const pins = (section.pins ??= {});
    const approved = (kept[server] ??= {});
    const counts = { changed: 0, added: 0, removed: 0, unchanged: 0 };
    for (const kind of PIN_KINDS) {
      const definitions = listed[kind];
      if (definitions === undefined) continue;
      const pinned = pinKind(kind, definitions, pins[kind] ?? {}, approved[kind] ?? {}, sidecar, counts);
      pins[kind] = pinned.pins;
      approved[kind] = pinned.definitions;
    }
    if (values.pinning !== undefined) section.pinning = values.pinning;
    const text = `# Approved definitions, written by 'mcp-sso-gateway policy pin': review each change's diff before pushing.\n${dump(document, { sortKeys: true, lineWidth: -1 })}`;
    // What is written must load as the gateway loads it.
    parsePolicyDocument({ origin: file, text });
    await writeFile(file, text);
    await writeFile(sidecar, `${JSON.stringify(kept, null, 2)}\n`);
    const mode = section.pinning ?? "enforce";
    console.log(`${counts.changed} changed, ${counts.added} added, ${counts.removed} dropped, ${counts.unchanged} unchanged; wrote ${file} (servers.${server}, pinning ${mode}) and ${sidecar}`);
    return 0;
  });
}

const pin: PolicySubcommand = { summary: "approve a server's tool, prompt and template definitions (pins), showing what changed", run };
export default pin;
