// Typed usage of the package, checked with `tsc --noEmit`: every call below must
// type-check except the one marked @ts-expect-error, which must fail.
import {
  Evaluator,
  LentAnswer,
  Policy,
  SpfParseError,
  checkHost,
  dohResolver,
  lintRecord,
  parseRecord,
  parseWhitelist,
  type Answer,
  type Outcome,
  type Resolve,
  type Verdict,
} from "spfgate";

const resolve: Resolve = async (name, type) => {
  switch (type) {
    case "TXT":
      return { records: ["v=spf1 ip4:192.0.2.0/24 -all", ["v=spf1 ", "-all"]] };
    case "MX":
      return { records: [{ preference: 10, exchange: `mx.${name}` }] };
    case "A":
      return { records: ["192.0.2.1"] };
    default:
      return { nxdomain: true };
  }
};

export async function usage(): Promise<[Outcome, Verdict]> {
  const terms = parseRecord("v=spf1 -all");
  const first: string = terms[0].kind === "directive" ? terms[0].mechanism : terms[0].name;
  const findings = lintRecord("v=spf1 +all");
  const severity: "error" | "warning" | "info" = findings[0].severity;
  const report = parseWhitelist("192.0.2.0/24\n10.0.0.1");
  const line: number = report.errors.length ? report.errors[0].line : report.entries[0].column;
  void [first, severity, line];
  try {
    parseRecord("v=spf1 ip4:1.2.3.4/33");
  } catch (e) {
    if (e instanceof SpfParseError) {
      const where: number = e.offset + e.length;
      void where;
    }
  }

  const ev = new Evaluator({ ip: "192.0.2.1", mailFrom: "a@example.com", helo: "mx.example.com" }, { trace: false });
  for (let step = ev.poll(); !step.done; step = ev.poll()) {
    for (const lookup of step.lookups ?? []) {
      const answer: Answer = lookup.type === "TXT" ? { records: ["v=spf1 -all"] } : { error: "timeout" };
      ev.answer(lookup.id, answer);
    }
  }
  ev.restart({ ip: "2001:db8::1", mailFrom: "", helo: "mx.example.com", identity: "helo", now: 0 });
  const nxdomain = LentAnswer.from({ nxdomain: true });
  for (let step = ev.poll(); !step.done; step = ev.poll()) {
    for (const lookup of step.lookups ?? []) ev.answer(lookup.id, nxdomain);
  }
  nxdomain.free();
  ev.free();

  const outcome = await checkHost(
    { ip: "192.0.2.1", mailFrom: "a@example.com", helo: "mx.example.com" },
    resolve,
    { defaultExplanation: "not allowed", prefetch: true, limits: { voidLookups: 2 } },
  );
  const counts: number = outcome.lookups + outcome.voidLookups + outcome.queries + outcome.roundTrips;
  void counts;
  const doh = dohResolver("https://dns.example/dns-query");
  void (await doh("example.com", "TXT"));

  const policy = Policy.fromJson('{"authserv_id": "mx.example", "accounts": []}');
  const verdict = await policy.decide({ ip: "192.0.2.1", mailFrom: "a@example.com", helo: "h.example" }, resolve);
  const code: number = verdict.smtp.code;
  const header: string = verdict.headers["Authentication-Results"];
  void header;
  void code;

  // @ts-expect-error: the resolver's type must be one of A, AAAA, MX, TXT, PTR
  await checkHost({ ip: "192.0.2.1", mailFrom: "a@example.com", helo: "h" }, async (_name: string, _type: "SRV") => ({ nxdomain: true }));

  return [outcome, verdict];
}
