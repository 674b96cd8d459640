/**
 * The pins of a policy, merged from all its documents: per server, its pinning mode and the approved digest of each
 * pinned tool, prompt and resource template (document.ts `servers.<name>.pins`, `servers.<name>.pinning`).
 *
 * Documents merge as their grants do, each adding its pins; two that disagree are refused, naming both places: one
 * name pinned to two digests, or one server given two modes. Pins of a document in dry run are in force as written
 * (dry run is about grants and rules; `pinning: warn` is the dry run of pins).
 */
import { PolicyError } from "../errors.js";
import type { NamedPolicyDocument } from "../policy/document.js";

/** The kinds of definition a pin covers, as document sections. */
export type PinKind = "tools" | "prompts" | "resourceTemplates";

export const PIN_KINDS: readonly PinKind[] = ["tools", "prompts", "resourceTemplates"];

/** What a definition that does not match its pin does (document.ts `pinning`). */
export type PinningMode = "enforce" | "warn" | "off";

export interface ServerPins {
  /** `enforce` or `warn`: servers whose pins are off are not in the set at all. */
  mode: Exclude<PinningMode, "off">;
  /** Name (templates: uriTemplate) to approved digest, by kind. */
  digests: Readonly<Record<PinKind, ReadonlyMap<string, string>>>;
}

/** The servers whose definitions are checked against pins, by name; a server absent is not checked (no cost). */
export type PinSet = ReadonlyMap<string, ServerPins>;

/** Where each pin and mode was written, to name both sides of a conflict. */
interface Written<T> {
  value: T;
  origin: string;
}

export function compilePins(documents: readonly NamedPolicyDocument[]): PinSet {
  const modes = new Map<string, Written<PinningMode>>();
  const pinned = new Map<string, Record<PinKind, Map<string, Written<string>>>>();
  for (const { origin, document } of documents) {
    for (const [server, sections] of Object.entries(document.servers ?? {})) {
      if (sections.pinning !== undefined) {
        const at = `${origin} servers.${server}.pinning`;
        const earlier = modes.get(server);
        if (earlier && earlier.value !== sections.pinning) {
          throw new PolicyError(`${at}: ${sections.pinning} conflicts with ${earlier.value} at ${earlier.origin}; a server has one pinning mode`);
        }
        modes.set(server, { value: sections.pinning, origin: at });
      }
      if (sections.pins === undefined) continue;
      let kinds = pinned.get(server);
      if (!kinds) pinned.set(server, (kinds = { tools: new Map(), prompts: new Map(), resourceTemplates: new Map() }));
      for (const kind of PIN_KINDS) {
        for (const [name, digest] of Object.entries(sections.pins[kind] ?? {})) {
          const at = `${origin} servers.${server}.pins.${kind}.${name}`;
          const earlier = kinds[kind].get(name);
          if (earlier && earlier.value !== digest) {
            throw new PolicyError(`${at}: pinned to ${digest}, but ${earlier.origin} pins it to ${earlier.value}; one definition has one digest`);
          }
          kinds[kind].set(name, { value: digest, origin: at });
        }
      }
    }
  }
  const set = new Map<string, ServerPins>();
  for (const server of new Set([...modes.keys(), ...pinned.keys()])) {
    const mode = modes.get(server)?.value ?? "enforce";
    if (mode === "off") continue;
    const kinds = pinned.get(server);
    const digestsOf = (kind: PinKind) => new Map([...(kinds?.[kind] ?? new Map<string, Written<string>>())].map(([name, { value }]) => [name, value]));
    set.set(server, { mode, digests: { tools: digestsOf("tools"), prompts: digestsOf("prompts"), resourceTemplates: digestsOf("resourceTemplates") } });
  }
  return set;
}
