// Loads the RFC 7208 test suite (read in place from ../shared/spf-test-suite).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Zone } from "./zone.mjs";

export function suitePath() {
  const path = process.env.SPFGATE_SUITE;
  if (!path) throw new Error("SPFGATE_SUITE must name rfc7208-tests.yml");
  return path;
}

/** Every test of every scenario: `{ scenario, name, zone, request, results, explanation }`. */
export function loadSuite(path = suitePath()) {
  const cases = [];
  for (const doc of parseAllDocuments(readFileSync(path, "utf8"))) {
    const scenario = doc.toJS();
    if (!scenario) continue;
    const zone = new Zone(scenario.zonedata);
    for (const [name, t] of Object.entries(scenario.tests)) {
      cases.push({
        scenario: scenario.description,
        name,
        zone,
        request: { ip: String(t.host), mailFrom: String(t.mailfrom ?? ""), helo: String(t.helo ?? "") },
        results: Array.isArray(t.result) ? t.result : [t.result],
        explanation: t.explanation,
      });
    }
  }
  return cases;
}

/** Why `outcome` fails `c`, or undefined when it passes. */
export function mismatch(c, outcome) {
  if (!c.results.includes(outcome.result)) {
    return `result ${outcome.result}, expected ${c.results.join(" or ")} (${outcome.problem ?? outcome.mechanism})`;
  }
  if (c.explanation !== undefined && outcome.explanation !== c.explanation) {
    return `explanation ${JSON.stringify(outcome.explanation)}, expected ${JSON.stringify(c.explanation)}`;
  }
  return undefined;
}
