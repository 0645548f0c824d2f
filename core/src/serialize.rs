//! `Serialize` for the values whose serialized form is not their field list: the
//! ones with computed fields (a reason, a description, a message, `ok`) or a
//! compact form (spans as `[start, length]`). Simpler types derive `Serialize`
//! where they are defined. `docs/json.md` describes every shape; tests there and in
//! `bindings/cli/tests/json/` hold them.

use serde::ser::{Serialize, SerializeSeq, SerializeStruct, Serializer};

use crate::eval::{Outcome, Problem};
use crate::lint::Report;
use crate::policy::whitelist::WhitelistReport;
use crate::policy::{Mode, Rule, Verdict};
use crate::record::{Mechanism, Modifier, ParseError, Record, Span, Term};

/// `[start, length]` in bytes.
impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&self.start)?;
        seq.serialize_element(&self.len)?;
        seq.end()
    }
}

/// The message, as `Display` gives it.
impl Serialize for Problem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `{result, reason, explanation, mechanism, domain, problem, lookups,
/// void_lookups, queries, round_trips, trace}`; `lookups` is
/// [`Outcome::dns_terms`], `reason` is [`Outcome::reason`].
impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("Outcome", 11)?;
        o.serialize_field("result", &self.result)?;
        o.serialize_field("reason", &self.reason())?;
        o.serialize_field("explanation", &self.explanation)?;
        o.serialize_field("mechanism", &self.mechanism)?;
        o.serialize_field("domain", &self.domain)?;
        o.serialize_field("problem", &self.problem)?;
        o.serialize_field("lookups", &self.dns_terms)?;
        o.serialize_field("void_lookups", &self.void_lookups)?;
        o.serialize_field("queries", &self.queries)?;
        o.serialize_field("round_trips", &self.round_trips)?;
        o.serialize_field("trace", &self.trace)?;
        o.end()
    }
}

/// The rule with the account's mode: `{kind, mode, description, ...}` plus
/// `entry`, `line`, `column` for `whitelist-hit` and `result`, `directive`,
/// `domain`, `problem` for `spf`.
struct RuleInMode<'a> {
    rule: &'a Rule,
    mode: Option<Mode>,
}

impl Serialize for RuleInMode<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut r = s.serialize_struct("Rule", 7)?;
        r.serialize_field("kind", self.rule.kind())?;
        r.serialize_field("mode", &self.mode)?;
        r.serialize_field("description", &self.rule.to_string())?;
        match self.rule {
            Rule::WhitelistHit {
                entry,
                line,
                column,
            } => {
                r.serialize_field("entry", entry)?;
                r.serialize_field("line", line)?;
                r.serialize_field("column", column)?;
            }
            Rule::Spf {
                result,
                directive,
                domain,
                problem,
            } => {
                r.serialize_field("result", result)?;
                r.serialize_field("directive", directive)?;
                r.serialize_field("domain", domain)?;
                r.serialize_field("problem", problem)?;
            }
            Rule::NullSender
            | Rule::UnknownSender
            | Rule::Open
            | Rule::WhitelistMiss
            | Rule::WhitelistEmpty => {}
        }
        r.end()
    }
}

/// `{action, smtp, account, rule, spf, headers}`; the account's mode is in `rule`.
impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = s.serialize_struct("Verdict", 6)?;
        v.serialize_field("action", &self.action)?;
        v.serialize_field("smtp", &self.smtp)?;
        v.serialize_field("account", &self.account)?;
        v.serialize_field(
            "rule",
            &RuleInMode {
                rule: &self.rule,
                mode: self.mode,
            },
        )?;
        v.serialize_field("spf", &self.spf)?;
        v.serialize_field("headers", &self.headers)?;
        v.end()
    }
}

/// `{kind, message, offset, length, term}`: `kind` is the tagged
/// [`ParseErrorKind`](crate::record::ParseErrorKind), `message` the `Display` text.
impl Serialize for ParseError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut e = s.serialize_struct("ParseError", 5)?;
        e.serialize_field("kind", self.kind())?;
        e.serialize_field("message", &self.to_string())?;
        e.serialize_field("offset", &self.offset())?;
        e.serialize_field("length", &self.len())?;
        e.serialize_field("term", self.term())?;
        e.end()
    }
}

/// `{record, terms}`: the canonical text and each term with its span in the
/// parsed text.
impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Terms<'r, 'a>(&'r Record<'a>);
        impl Serialize for Terms<'_, '_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.terms().len()))?;
                for (term, span) in self.0.spanned_terms() {
                    seq.serialize_element(&SpannedTerm { term, span })?;
                }
                seq.end()
            }
        }
        let mut r = s.serialize_struct("Record", 2)?;
        r.serialize_field("record", &self.to_string())?;
        r.serialize_field("terms", &Terms(self))?;
        r.end()
    }
}

/// A directive `{kind: "directive", qualifier, mechanism, domain, cidr4, cidr6,
/// span}` (`domain`: the target as written, or the network address of `ip4`/`ip6`;
/// `null` for the current domain) or a modifier `{kind: "modifier", name, value,
/// span}`.
struct SpannedTerm<'r, 'a> {
    term: &'r Term<'a>,
    span: Span,
}

impl Serialize for SpannedTerm<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.term {
            Term::Directive(d) => {
                let (domain, cidr4, cidr6) = match &d.mechanism {
                    Mechanism::Include(spec) | Mechanism::Exists(spec) => {
                        (Some(spec.as_str().to_owned()), None, None)
                    }
                    Mechanism::A { domain, cidr } | Mechanism::Mx { domain, cidr } => (
                        domain.as_ref().map(|d| d.as_str().to_owned()),
                        Some(cidr.v4),
                        Some(cidr.v6),
                    ),
                    Mechanism::Ptr(domain) => {
                        (domain.as_ref().map(|d| d.as_str().to_owned()), None, None)
                    }
                    Mechanism::Ip4(net) => {
                        (Some(net.addr().to_string()), Some(net.prefix_len()), None)
                    }
                    Mechanism::Ip6(net) => {
                        (Some(net.addr().to_string()), None, Some(net.prefix_len()))
                    }
                    Mechanism::All => (None, None, None),
                };
                let mut t = s.serialize_struct("Directive", 7)?;
                t.serialize_field("kind", "directive")?;
                t.serialize_field("qualifier", &d.qualifier)?;
                t.serialize_field("mechanism", d.mechanism.name())?;
                t.serialize_field("domain", &domain)?;
                t.serialize_field("cidr4", &cidr4)?;
                t.serialize_field("cidr6", &cidr6)?;
                t.serialize_field("span", &self.span)?;
                t.end()
            }
            Term::Modifier(m) => {
                let (name, value) = match m {
                    Modifier::Redirect(spec) => ("redirect", spec.as_str()),
                    Modifier::Explanation(spec) => ("exp", spec.as_str()),
                    Modifier::Unknown { name, value } => (name.as_ref(), value.as_str()),
                };
                let mut t = s.serialize_struct("Modifier", 4)?;
                t.serialize_field("kind", "modifier")?;
                t.serialize_field("name", name)?;
                t.serialize_field("value", value)?;
                t.serialize_field("span", &self.span)?;
                t.end()
            }
        }
    }
}

/// `{domain, findings, counts: {dns_terms, void_lookups, mx_hosts, depth, exact,
/// queries, round_trips}, records, flattening}`.
impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Counts<'a>(&'a Report);
        impl Serialize for Counts<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let r = self.0;
                let mut c = s.serialize_struct("Counts", 7)?;
                c.serialize_field("dns_terms", &r.dns_terms)?;
                c.serialize_field("void_lookups", &r.void_lookups)?;
                c.serialize_field("mx_hosts", &r.mx_hosts)?;
                c.serialize_field("depth", &r.depth)?;
                c.serialize_field("exact", &r.exact)?;
                c.serialize_field("queries", &r.queries)?;
                c.serialize_field("round_trips", &r.round_trips)?;
                c.end()
            }
        }
        let mut r = s.serialize_struct("Report", 5)?;
        r.serialize_field("domain", &self.domain)?;
        r.serialize_field("findings", &self.findings)?;
        r.serialize_field("counts", &Counts(self))?;
        r.serialize_field("records", &self.records)?;
        r.serialize_field("flattening", &self.flattening)?;
        r.end()
    }
}

/// `{entries, errors, warnings, errors_omitted, warnings_omitted, ok}`; `ok` is
/// [`WhitelistReport::is_ok`].
impl Serialize for WhitelistReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut r = s.serialize_struct("WhitelistReport", 6)?;
        r.serialize_field("entries", &self.entries)?;
        r.serialize_field("errors", &self.errors)?;
        r.serialize_field("warnings", &self.warnings)?;
        r.serialize_field("errors_omitted", &self.errors_omitted)?;
        r.serialize_field("warnings_omitted", &self.warnings_omitted)?;
        r.serialize_field("ok", &self.is_ok())?;
        r.end()
    }
}
