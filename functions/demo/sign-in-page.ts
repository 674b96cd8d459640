/**
 * The demo identity provider's sign-in page, where oidc-provider sends a browser that must sign in
 * (`/interaction/<uid>`): the walkthrough's users, one button each. There are no passwords: this page stands in for
 * the corporate sign-in page, and picking a user is signing in as them. It is shown at every sign-in, even to a
 * browser already signed in, so that signing in again (the Inspector's --relogin) can switch users. The consent step
 * that follows is answered for the user, as a corporate identity provider does for an application its administrators
 * approved for everyone. Errors the provider shows the browser use the same page.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import { interactionPolicy, type ErrorOut, type Interaction } from "oidc-provider";
import type { DemoUser } from "./demo-users.js";

/** Where oidc-provider sends the browser for an interaction (its `interactions.url`), and where the page posts to. */
export const INTERACTION_PATH = "/interaction/";
const LOGIN_ACTION = "/login";
const CANCEL_ACTION = "/cancel";

/** Largest sign-in form read: it holds one user name. */
const MAX_FORM_BYTES = 4096;

/**
 * oidc-provider's interaction policy, with one more reason to show the sign-in page: this authorization request has
 * not had a user picked yet. A corporate provider would let a signed-in browser through; the demo asks again, so
 * that a second sign-in may be as the other user.
 */
export function signInEveryTime(): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy
    .get("login")
    ?.checks.push(
      new interactionPolicy.Check("pick_user", "the demo asks who you are at every sign-in", (ctx) =>
        ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
      ),
    );
  return policy;
}

function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    // The page runs no script and loads nothing: only its own inline style.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  });
  res.end(html);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${htmlEscape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1rem;margin:.25rem 0}li{margin:.75rem 0;list-style:none}small{color:#555}</style>
</head><body><h1>${htmlEscape(title)}</h1>
${body}
</body></html>`;
}

/** What the browser is shown when the provider refuses a request (its `renderError`): the error and its description. */
export function errorPage(out: ErrorOut): string {
  const lines = Object.entries(out).map(([name, value]) => `<p><strong>${htmlEscape(name)}</strong>: ${htmlEscape(String(value))}</p>`);
  return page("Sign-in failed", lines.join("\n"));
}

/** The page listing the users; `clientName` is the name the client registered under, or its id. */
function signInPage(interaction: Interaction, clientName: string, users: readonly DemoUser[]): string {
  const params = interaction.params;
  const resource = typeof params.resource === "string" ? params.resource : undefined;
  const action = `${INTERACTION_PATH}${encodeURIComponent(interaction.uid)}`;
  const choices = users.map((user) => {
    const name = htmlEscape(user.subject);
    return `<li><button type="submit" name="user" value="${name}">${name}</button> <small>${htmlEscape(user.description)}</small></li>`;
  });
  return page(
    "Sign in to the demo identity provider",
    `<p><strong>${htmlEscape(clientName)}</strong> asks you to sign in${resource ? ` for <code>${htmlEscape(resource)}</code>` : ""}.
Who are you? (No password: this page stands in for your company's sign-in page.)</p>
<form method="post" action="${action}${LOGIN_ACTION}"><ul>
${choices.join("\n")}
</ul></form>
<form method="post" action="${action}${CANCEL_ACTION}"><button type="submit">Cancel</button></form>`,
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_FORM_BYTES) throw new RangeError("sign-in form too large");
  }
  return new URLSearchParams(text);
}

/** Grants what the consent prompt found missing: the OpenID scopes and claims, and each resource's scopes. */
async function grantMissing(provider: Provider, interaction: Interaction): Promise<string> {
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId: interaction.session?.accountId, clientId: String(interaction.params.client_id) });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(" "));
  return grant.save();
}

/**
 * Answers every request under /interaction/: the sign-in page (GET), the choice of a user or a cancellation (POST),
 * and the consent step, answered at once.
 */
export function createSignInHandler(provider: Provider, users: readonly DemoUser[]): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    // interactionDetails checks the browser's interaction cookie: a request from anyone else finds no interaction.
    const interaction = await provider.interactionDetails(req, res);
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const action = path.slice(`${INTERACTION_PATH}${interaction.uid}`.length);

    if (req.method === "GET" && action === "") {
      if (interaction.prompt.name === "login") {
        const clientId = String(interaction.params.client_id);
        const client = await provider.Client.find(clientId);
        return send(res, 200, signInPage(interaction, client?.clientName ?? clientId, users));
      }
      if (interaction.prompt.name === "consent") {
        const grantId = await grantMissing(provider, interaction);
        return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      }
      return send(res, 400, page("Cannot continue", `<p>The demo identity provider does not handle the ${htmlEscape(interaction.prompt.name)} step.</p>`));
    }
    if (req.method === "POST" && action === LOGIN_ACTION && interaction.prompt.name === "login") {
      const subject = (await readForm(req)).get("user") ?? "";
      const user = users.find((candidate) => candidate.subject === subject);
      if (!user) return send(res, 400, page("Unknown user", `<p>The demo knows no user ${htmlEscape(JSON.stringify(subject))}.</p>`));
      return provider.interactionFinished(req, res, { login: { accountId: user.subject } }, { mergeWithLastSubmission: false });
    }
    if (req.method === "POST" && action === CANCEL_ACTION) {
      return provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "the user cancelled signing in" },
        { mergeWithLastSubmission: false },
      );
    }
    send(res, 404, page("Not found", "<p>Nothing here.</p>"));
  };
}
