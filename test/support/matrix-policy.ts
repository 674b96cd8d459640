/**
 * The policy of the version matrix, in the native form, covering the items of both backends (the v2 test backend
 * and server-everything), and an independent reading of it for expectations: what each test user may see and use.
 *
 * Two users: an analyst (role `analyst`) who gets a few tools, prompts and resources, and a guest (no roles) who
 * gets only what is granted to every authenticated caller (`"*"`).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

type Grants = Record<string, string[]>;

export const MATRIX_POLICY: { tools: Grants; prompts: Grants; resources: Grants } = {
  tools: {
    echo: ["*"],
    add: ["analyst"],
    "get-sum": ["analyst"],
    weather: ["analyst"],
  },
  prompts: {
    summarize: ["*"],
    "simple-prompt": ["*"],
    "args-prompt": ["analyst"],
  },
  resources: {
    "docs://public/*": ["*"],
    "docs://internal/*": ["analyst"],
    "demo://resource/static/document/features.md": ["*"],
    "demo://resource/static/document/architecture.md": ["analyst"],
    "demo://resource/dynamic/text/*": ["analyst"],
  },
};

export interface MatrixUser {
  name: "analyst" | "guest";
  roles: string[];
}

export const USERS: readonly MatrixUser[] = [
  { name: "analyst", roles: ["analyst"] },
  { name: "guest", roles: [] },
];

/** Writes the policy as a JSON document (JSON is YAML, which POLICY_FILE reads). */
export async function writeMatrixPolicy(dir: string): Promise<string> {
  const file = join(dir, "version-matrix-policy.json");
  await writeFile(file, JSON.stringify(MATRIX_POLICY, null, 2));
  return file;
}

function matches(pattern: string, name: string): boolean {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(`^${escaped.join("[\\s\\S]*")}$`, "u").test(name);
}

function granted(grants: Grants, name: string, roles: readonly string[]): boolean {
  return Object.entries(grants).some(
    ([pattern, allowed]) => matches(pattern, name) && allowed.some((role) => role === "*" || roles.includes(role)),
  );
}

/** The field each list's items are named by, and the policy section that governs them. */
export const LIST_ITEMS = {
  tools: { field: "name", section: "tools" },
  prompts: { field: "name", section: "prompts" },
  resources: { field: "uri", section: "resources" },
  resourceTemplates: { field: "uriTemplate", section: "resources" },
} as const;

/** Whether the policy lets `user` see an item of `list`. */
export function allowedItem(user: MatrixUser, list: keyof typeof LIST_ITEMS, item: Record<string, unknown>): boolean {
  const { field, section } = LIST_ITEMS[list];
  const name = item[field];
  return typeof name === "string" && granted(MATRIX_POLICY[section], name, user.roles);
}
