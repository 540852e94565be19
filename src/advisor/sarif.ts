// The advisor's findings as a SARIF 2.1.0 log, so CI systems show them as code-scanning alerts.
// Each finding is a result of its rule; the Azure id it is about is the result's logical
// location (SARIF's way to locate things that are not lines of a file). Severity maps to the
// result level: high = error, medium = warning, low = note.
import { RULES, type Finding, type Severity } from './findings.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { high: 'error', medium: 'warning', low: 'note' };
/** GitHub code scanning reads a 0-10 `security-severity` per rule. */
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.0', low: '2.0' };

export function toSarif(findings: readonly Finding[], toolVersion: string): Record<string, unknown> {
  const keys = Object.keys(RULES) as (keyof typeof RULES)[];
  const worst = new Map<string, Severity>();
  for (const f of findings) {
    const w = worst.get(f.rule);
    if (w === undefined || (w !== 'high' && (f.severity === 'high' || w === 'low'))) worst.set(f.rule, f.severity);
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'mimic-advisor',
            informationUri: 'https://github.com/mimic/mimic/blob/main/docs/ADVISOR.md',
            version: toolVersion,
            rules: keys.map((k) => ({
              id: RULES[k].id,
              name: RULES[k].name,
              shortDescription: { text: RULES[k].text },
              helpUri: `https://github.com/mimic/mimic/blob/main/docs/ADVISOR.md#${RULES[k].id.toLowerCase()}`,
              properties: { tags: ['security', 'azure-rbac', 'least-privilege'], 'security-severity': SECURITY_SEVERITY[worst.get(k) ?? 'low'] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: keys.indexOf(f.rule),
          level: LEVEL[f.severity],
          message: { text: f.message },
          locations: [{ logicalLocations: [{ fullyQualifiedName: f.target, kind: 'resource' }] }],
          partialFingerprints: { 'mimicFinding/v1': `${f.ruleId}:${f.target.toLowerCase()}` },
          properties: { severity: f.severity, ...(f.principalId ? { principalId: f.principalId } : {}) },
        })),
        columnKind: 'unicodeCodePoints',
      },
    ],
  };
}
