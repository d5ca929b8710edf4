// OpenVEX 0.2.0: one statement per (CVE, package version), product @id = the
// purl. OpenVEX has four statuses, so vulnvault's six states fold onto them
// (OPENVEX_STATUS), and its five justifications are coarser than CycloneDX's
// nine (OPENVEX_JUSTIFICATION). What the folding loses is kept in fixed
// sentences: `status_notes` names vulnvault's state, `impact_statement` names
// the CycloneDX justification, `action_statement` the responses and a risk
// acceptance's expiry. Customer comments are added only with includeComments.

import type { AnalysisJustification, AnalysisResponse } from '../core/finding.js';
import { contentUrn } from './document-id.js';
import type { VexAnalysisState, VexOptions, VexStatement } from './types.js';
import { NVD_URL, verdicts, type Verdict } from './verdict.js';

export type OpenVexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

export type OpenVexJustification =
  | 'component_not_present'
  | 'vulnerable_code_not_present'
  | 'vulnerable_code_not_in_execute_path'
  | 'vulnerable_code_cannot_be_controlled_by_adversary'
  | 'inline_mitigations_already_exist';

/** vulnvault state → OpenVEX status. */
export const OPENVEX_STATUS: Readonly<Record<VexAnalysisState, OpenVexStatus>> = {
  // Still being looked at.
  in_triage: 'under_investigation',
  // Exploitable: affected; the action_statement OpenVEX requires is built
  // from the responses (or says none is decided yet).
  exploitable: 'affected',
  // Still affected: accepting a risk does not remove it. The action_statement
  // names the expiry and will_not_fix/can_not_fix.
  risk_accepted: 'affected',
  // The scanner associated the CVE with the package wrongly: the product is
  // not affected; OpenVEX has no justification for "wrongly reported", so an
  // impact_statement says it.
  false_positive: 'not_affected',
  not_affected: 'not_affected',
  // Remediated (including a fixed finding nobody analysed).
  resolved: 'fixed',
};

/** CycloneDX justification → OpenVEX justification, and why. */
export const OPENVEX_JUSTIFICATION: Readonly<Record<AnalysisJustification, OpenVexJustification>> =
  {
    // "The code has been removed or tree-shaked": the package is there, its
    // vulnerable code is not.
    code_not_present: 'vulnerable_code_not_present',
    // "The vulnerable code is not invoked at runtime": the same notion.
    code_not_reachable: 'vulnerable_code_not_in_execute_path',
    // The three "requires_*": the vulnerable code is present and reachable,
    // but exploiting it needs a setting, another dependency or an environment
    // the product lacks, so an attacker cannot drive it.
    requires_configuration: 'vulnerable_code_cannot_be_controlled_by_adversary',
    requires_dependency: 'vulnerable_code_cannot_be_controlled_by_adversary',
    requires_environment: 'vulnerable_code_cannot_be_controlled_by_adversary',
    // The four "protected_*": a control stops the exploit. OpenVEX has one
    // word for it; its "inline" is closest for compiler and runtime
    // protections and the nearest for perimeter and other mitigating
    // controls, which is why the impact_statement keeps the exact CycloneDX
    // justification.
    protected_by_compiler: 'inline_mitigations_already_exist',
    protected_at_runtime: 'inline_mitigations_already_exist',
    protected_at_perimeter: 'inline_mitigations_already_exist',
    protected_by_mitigating_control: 'inline_mitigations_already_exist',
  };

/** CycloneDX's own meaning of each justification (its schema's meta:enum), for impact_statement. */
const JUSTIFICATION_TEXT: Readonly<Record<AnalysisJustification, string>> = {
  code_not_present: 'the code has been removed or tree-shaken',
  code_not_reachable: 'the vulnerable code is not invoked at runtime',
  requires_configuration: 'exploitability requires a configurable option to be set or unset',
  requires_dependency: 'exploitability requires a dependency that is not present',
  requires_environment: 'exploitability requires a certain environment which is not present',
  protected_by_compiler: 'exploitability requires a compiler flag to be set or unset',
  protected_at_runtime: 'exploits are prevented at runtime',
  protected_at_perimeter: 'attacks are blocked at a physical, logical or network perimeter',
  protected_by_mitigating_control:
    'preventative measures have been implemented that reduce the likelihood or impact of the vulnerability',
};

const RESPONSE_TEXT: Readonly<Record<AnalysisResponse, string>> = {
  can_not_fix: 'The vulnerability can not be fixed.',
  will_not_fix: 'The vulnerability will not be fixed.',
  update: 'Update to a release that fixes the vulnerability.',
  rollback: 'Roll back to a release without the vulnerability.',
  workaround_available: 'A workaround is available.',
};

export interface OpenVexStatement {
  vulnerability: { '@id': string; name: string; description: string };
  timestamp: string;
  products: { '@id': string }[];
  status: OpenVexStatus;
  status_notes: string;
  justification?: OpenVexJustification;
  impact_statement?: string;
  action_statement?: string;
  action_statement_timestamp?: string;
}

export interface OpenVexDocument {
  '@context': 'https://openvex.dev/ns/v0.2.0';
  '@id': string;
  author: string;
  timestamp: string;
  version: 1;
  tooling: string;
  statements: OpenVexStatement[];
}

/** Thrown for an export with no statement: OpenVEX requires at least one. */
export class OpenVexEmptyError extends Error {
  constructor() {
    super('an OpenVEX document needs at least one statement');
    this.name = 'OpenVexEmptyError';
  }
}

function withComment(text: string, v: Verdict): string {
  return v.comment === '' ? text : `${text}\n\n${v.comment}`;
}

function statementOf(v: Verdict): OpenVexStatement {
  const status = OPENVEX_STATUS[v.state];
  const s: OpenVexStatement = {
    vulnerability: { '@id': NVD_URL + v.cve, name: v.cve, description: v.title },
    timestamp: v.lastUpdated,
    products: [{ '@id': v.purl }],
    status,
    status_notes: `vulnvault analysis state: ${v.state}.`,
  };
  switch (v.state) {
    case 'not_affected': {
      const j = v.justification;
      if (j !== null) s.justification = OPENVEX_JUSTIFICATION[j];
      s.impact_statement = withComment(
        j === null
          ? 'Not affected (no justification was recorded).'
          : `Not affected: ${JUSTIFICATION_TEXT[j]} (CycloneDX justification ${j}).`,
        v,
      );
      break;
    }
    case 'false_positive':
      s.impact_statement = withComment(
        'False positive: the vulnerability was wrongly associated with this component.',
        v,
      );
      break;
    case 'exploitable':
    case 'risk_accepted': {
      const parts: string[] = [];
      if (v.expiresAt !== null) parts.push(`Risk accepted until ${v.expiresAt}.`);
      if (v.acceptanceExpiredAt !== null) {
        parts.push(`A risk acceptance expired at ${v.acceptanceExpiredAt}.`);
      }
      parts.push(...v.response.map((r) => RESPONSE_TEXT[r]));
      if (v.response.length === 0) parts.push('No remediation has been decided yet.');
      s.action_statement = withComment(parts.join(' '), v);
      s.action_statement_timestamp = v.lastUpdated;
      break;
    }
    case 'in_triage':
    case 'resolved':
      // Neither status requires text; a comment goes with the notes.
      s.status_notes = withComment(s.status_notes, v);
      break;
  }
  return s;
}

/**
 * An OpenVEX 0.2.0 document of the statements. Deterministic: the same
 * statements (in any order) and options give the same document, its @id
 * included (a urn:uuid of its content, document-id.ts). Analysis comments
 * are the customer's own words and go into impact_statement /
 * action_statement / status_notes only with `options.includeComments`
 * (default false): VEX documents are shared with third parties. Principals
 * and finding ids are never written.
 * Throws OpenVexEmptyError when there is no statement (OpenVEX requires one),
 * VexInputError on a statement that is not a CVE in a versioned purl.
 */
export function buildOpenVex(
  statements: readonly VexStatement[],
  options: VexOptions,
): OpenVexDocument {
  const vs = verdicts(statements, options);
  if (vs.length === 0) throw new OpenVexEmptyError();
  const body = {
    author: options.author,
    timestamp: options.timestamp.toISOString(),
    version: 1 as const,
    tooling: 'vulnvault',
    statements: vs.map(statementOf),
  };
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    // The org is part of the id's input (not of the document: OpenVEX has no
    // field for it), so two orgs' identical documents get distinct ids.
    '@id': contentUrn(
      'openvex',
      `${options.org}\u0000${options.idSeed ?? ''}`,
      JSON.stringify(body),
    ),
    ...body,
  };
}
