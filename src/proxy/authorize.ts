/** One authorization rule: clients of `org` (or any org, `*`), optionally only some ids, may reach `group`. */
export interface AuthorizationRule {
  /** Organization to match, or `*` for any. */
  org: string;
  /** When set, only these client ids (CommonNames) match. */
  clientIds?: readonly string[];
  /** Target group; the literal `{org}` means the group named like the client's org. */
  group: string;
}

/** How a certificate with several O values is matched: any of them in order, or only the first. */
export type OrgRule = 'any' | 'first';

/** The group token that stands for "the group named like the org". */
export const ORG_AS_GROUP = '{org}';

/** Maps an identity to the group it may reach, or undefined: default deny. */
export class Authorizer {
  readonly #rules: readonly AuthorizationRule[];
  readonly #orgRule: OrgRule;
  readonly #groupExists: (name: string) => boolean;

  constructor(rules: readonly AuthorizationRule[], orgRule: OrgRule, groupExists: (name: string) => boolean) {
    this.#rules = rules;
    this.#orgRule = orgRule;
    this.#groupExists = groupExists;
  }

  /**
   * The group for a client, or undefined. Rules are tried in order for each org value; with the
   * `any` rule the first org (in certificate order) that some rule allows decides.
   */
  authorize(id: string, orgs: readonly string[]): string | undefined {
    const count = this.#orgRule === 'first' ? Math.min(orgs.length, 1) : orgs.length;
    for (let i = 0; i < count; i++) {
      const group = this.#groupFor(id, orgs[i]);
      if (group !== undefined) return group;
    }
    return undefined;
  }

  #groupFor(id: string, org: string): string | undefined {
    for (const rule of this.#rules) {
      if (rule.org !== '*' && rule.org !== org) continue;
      if (rule.clientIds !== undefined && !rule.clientIds.includes(id)) continue;
      const group = rule.group === ORG_AS_GROUP ? org : rule.group;
      if (this.#groupExists(group)) return group;
    }
    return undefined;
  }
}
