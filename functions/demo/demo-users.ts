/**
 * The walkthrough's two people, as the demo identity provider knows them: the subject of their tokens, their roles,
 * and the file `npm start` writes their long-lived token to. Both the pasted tokens and the sign-in page use this list.
 */
export interface DemoUser {
  /** `sub` of their tokens, and the name they are picked by on the sign-in page. */
  subject: string;
  /** Their `roles` claim; empty: their tokens carry no `roles` claim at all, as jsmith's do in the walkthrough. */
  roles: readonly string[];
  /** One line about them on the sign-in page. */
  description: string;
  /** The token file `npm start` writes for them in its working directory. */
  tokenFile: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { subject: "jsmith", roles: [], description: "an employee without roles: echo is hidden from him", tokenFile: "jsmith.token" },
  { subject: "pointy-haired-boss", roles: ["admin"], description: "roles [admin]: may see and call echo", tokenFile: "boss.token" },
];

export function findDemoUser(subject: string): DemoUser | undefined {
  return DEMO_USERS.find((user) => user.subject === subject);
}

/** The claims a user's roles add to their tokens: `{ roles: [...] }`, or nothing for a user without roles. */
export function roleClaims(user: DemoUser): { roles?: string[] } {
  return user.roles.length > 0 ? { roles: [...user.roles] } : {};
}
