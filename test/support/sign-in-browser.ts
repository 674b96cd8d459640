/**
 * A browser stand-in for signing in at the demo identity provider, over real HTTP: it follows redirects one by one,
 * keeping the cookies the provider sets (across sign-ins, as a browser does), submits the sign-in page's form for the
 * chosen user (or presses Cancel), submits the forms oidc-provider's pages submit by script (as a browser runs that
 * script), and stops at the redirect to the client's callback URL, where a real browser would hand the code to the
 * client's listener.
 */

export interface SignInVisit {
  /** The URL the browser was sent back to: with `code` and `state`, or with `error`. */
  callback: URL;
  /** Every page the user was asked to act on (HTML), in order; not those that submit themselves. */
  pages: string[];
}

/** Who to be on the sign-in page: a user's name (their button), or Cancel. */
export type SignInChoice = { user: string } | { cancel: true };

const MAX_STEPS = 20;

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, "&");
}

/** The script of oidc-provider's form-post pages (such as ending the previous user's session): submit the first form. */
const AUTO_SUBMIT = /document\.forms\[0\]\.submit\(\)/;

/** The request a browser makes when a page's script submits its first form, with the form's hidden fields. */
function autoSubmitted(html: string, base: URL): { url: URL; init: RequestInit } {
  const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
  if (!form?.[1]) throw new Error(`a page at ${base.href} submits a form it does not have:\n${html}`);
  const fields = [...(form[2] ?? "").matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)].map(([, name = "", value = ""]) => [name, decodeEntities(value)]);
  return {
    url: new URL(decodeEntities(form[1]), base),
    init: { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() },
  };
}

export class SignInBrowser {
  /** Cookies by name: enough for one provider on one origin. */
  private readonly cookies = new Map<string, string>();

  private store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expires = attributes.find((a) => /^\s*expires=/i.test(a));
      const expired = expires !== undefined && Date.parse(expires.slice(expires.indexOf("=") + 1)) <= Date.now();
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** Visits `authorizationUrl`, choosing `choice` on each sign-in page, until a redirect leads to `callbackUrl`. */
  async visit(authorizationUrl: URL, choice: SignInChoice, callbackUrl: string): Promise<SignInVisit> {
    const pages: string[] = [];
    let request: { url: URL; init: RequestInit } = { url: authorizationUrl, init: {} };
    for (let step = 0; step < MAX_STEPS; step++) {
      const response = await fetch(request.url, { ...request.init, redirect: "manual", headers: { ...request.init.headers, cookie: this.cookieHeader() } });
      this.store(response);
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, request.url);
        if (next.href.startsWith(callbackUrl)) return { callback: next, pages };
        request = { url: next, init: {} };
        continue;
      }
      const html = await response.text();
      if (response.status !== 200) throw new Error(`sign-in stopped at ${request.url.href} with ${response.status}: ${html}`);
      if (AUTO_SUBMIT.test(html)) {
        request = autoSubmitted(html, request.url);
        continue;
      }
      pages.push(html);
      const forms = [...html.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)];
      const form =
        "user" in choice ? forms.find(([, , inner]) => inner?.includes(`name="user" value="${choice.user}"`)) : forms.find(([, , inner]) => inner?.includes(">Cancel<"));
      if (!form?.[1]) throw new Error(`the page at ${request.url.href} offers no choice for ${JSON.stringify(choice)}:\n${html}`);
      request = {
        url: new URL(decodeEntities(form[1]), request.url),
        init: {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "user" in choice ? new URLSearchParams({ user: choice.user }).toString() : "",
        },
      };
    }
    throw new Error(`sign-in did not come back to ${callbackUrl} within ${MAX_STEPS} steps`);
  }
}
