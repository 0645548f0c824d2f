//! RFC 1035 master files from in-memory [`Zone`]s, so a real authoritative
//! server can serve the same data that `--zone` answers from memory.
//!
//! The point is comparison: `spfgate check --server` against a server loaded
//! with this file must give what `spfgate check --zone` gives on the zone it
//! came from. So every name goes into one zone whose origin is the root `.`
//! (whatever names a scenario uses, they are all in-zone and answered
//! authoritatively), and where DNS cannot say what the in-memory zone says, the
//! name is left out and reported instead of being served differently.
//!
//! The conventions follow [`Zone::resolve`]: `SPF` entries are served as TXT
//! unless the name lists a TXT record (then as type SPF, which the engine never
//! asks for); a name with nothing to serve still exists (NODATA, not NXDOMAIN)
//! through a private-use placeholder record; `TIMEOUT` cannot be served at all.

use std::collections::BTreeSet;

use spfgate::dns::Rdata;
use spfgate::zone::{Zone, ZoneEntry};

/// Longest character-string in a TXT record (one length octet, RFC 1035 §3.3).
const MAX_CHARACTER_STRING: usize = 255;
/// Longest label (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;
/// Longest name in wire form, length octets and the root label included.
const MAX_WIRE_NAME: usize = 255;

/// The zone's apex records. The NS target is under `.invalid` (RFC 6761) so it
/// can never collide with a name a scenario uses.
const APEX: &str = "$ORIGIN .\n\
$TTL 300\n\
. IN SOA ns.spfgate.invalid. hostmaster.spfgate.invalid. 1 3600 600 86400 300\n\
. IN NS ns.spfgate.invalid.\n";

/// Makes a name exist without answering any type the engine asks for: a
/// first private-use type (RFC 6895 §3.1) with empty data, in RFC 3597's
/// generic syntax.
const PLACEHOLDER: &str = "TYPE65280 \\# 0";

/// A master file and the names it could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterFile {
    /// The file: one zone with origin `.`, names in sorted order.
    pub text: String,
    /// Names left out of `text`, sorted by name. A lookup of one of them
    /// would be answered differently by a server (NXDOMAIN) than by the zone.
    pub unservable: Vec<Unservable>,
}

/// A name of the zone that a master file cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unservable {
    /// The name, as the zone holds it (lower case, no trailing dot).
    pub name: String,
    /// Why it cannot be served.
    pub reason: String,
}

/// Writes `zone` as a master file for the root zone.
pub fn master_file(zone: &Zone) -> MasterFile {
    let mut names: Vec<(&str, &[ZoneEntry])> = zone.entries().collect();
    names.sort_unstable_by_key(|&(name, _)| name);
    let mut text = String::from(APEX);
    let mut unservable = Vec::new();
    for (name, entries) in names {
        match records(name, entries) {
            Ok((owner, lines)) => {
                for line in lines {
                    text.push_str(&format!("{owner} IN {line}\n"));
                }
            }
            Err(reason) => unservable.push(Unservable {
                name: name.to_owned(),
                reason,
            }),
        }
    }
    MasterFile { text, unservable }
}

/// The owner name in presentation form and the `TYPE rdata` of each record,
/// or why the name cannot be served.
fn records(name: &str, entries: &[ZoneEntry]) -> Result<(String, Vec<String>), String> {
    let owner = presentation(name)?;
    if name.split('.').next() == Some("*") {
        // A server would synthesize answers for every name below; the
        // in-memory zone answers only for the literal `*` label.
        return Err("a leading `*` label is a wildcard on a real server".into());
    }
    if entries.contains(&ZoneEntry::Timeout) {
        return Err("lists TIMEOUT: a real server answers, it does not time out".into());
    }
    let has_txt = entries
        .iter()
        .any(|e| matches!(e, ZoneEntry::TxtNone | ZoneEntry::Record(Rdata::Txt(_))));
    let mut lines = Vec::new();
    for entry in entries {
        let line = match entry {
            ZoneEntry::Record(rdata) => record(rdata)?,
            ZoneEntry::Spf(text) if has_txt => format!("SPF {}", character_strings(text)),
            ZoneEntry::Spf(text) => format!("TXT {}", character_strings(text)),
            ZoneEntry::Cname(target) => format!("CNAME {}", presentation(target)?),
            ZoneEntry::TxtNone | ZoneEntry::Timeout => continue,
        };
        lines.push(line);
    }
    let cnames = lines.iter().filter(|l| l.starts_with("CNAME ")).count();
    if cnames > 0 && (lines.len() > 1 || owner == ".") {
        return Err("a CNAME cannot share its name with other records in DNS".into());
    }
    let distinct: BTreeSet<&String> = lines.iter().collect();
    if distinct.len() < lines.len() {
        return Err("lists the same record twice; DNS keeps only one".into());
    }
    if lines.is_empty() {
        lines.push(PLACEHOLDER.to_owned());
    }
    Ok((owner, lines))
}

/// `TYPE rdata` for one record.
fn record(rdata: &Rdata) -> Result<String, String> {
    Ok(match rdata {
        Rdata::A(ip) => format!("A {ip}"),
        Rdata::Aaaa(ip) => format!("AAAA {ip}"),
        Rdata::Mx {
            preference,
            exchange,
        } => format!("MX {preference} {}", presentation(exchange)?),
        Rdata::Txt(text) => format!("TXT {}", character_strings(text)),
        Rdata::Ptr(target) => format!("PTR {}", presentation(target)?),
        other => return Err(format!("no master-file form for {other}")),
    })
}

/// An absolute name in presentation form: every byte other than a letter,
/// digit, `-` or `_` written as `\DDD`, so spaces, `;`, `(`, `@` and the like
/// stay data.
fn presentation(name: &str) -> Result<String, String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Ok(".".into());
    }
    let mut out = String::with_capacity(name.len() + 1);
    let mut wire_len = 1;
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!("`{name}` has an empty label"));
        }
        if label.len() > MAX_LABEL {
            return Err(format!(
                "label `{label}` is {} bytes, above DNS's {MAX_LABEL}",
                label.len()
            ));
        }
        wire_len += label.len() + 1;
        for b in label.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("\\{b:03}"));
            }
        }
        out.push('.');
    }
    if wire_len > MAX_WIRE_NAME {
        return Err(format!(
            "`{name}` is {wire_len} bytes in wire form, above DNS's {MAX_WIRE_NAME}"
        ));
    }
    Ok(out)
}

/// TXT data as quoted character-strings of at most 255 bytes. SPF joins a
/// record's strings without separators, so where the data is split does not
/// matter. `"`, `\` and bytes outside printable ASCII are written as `\DDD`.
fn character_strings(data: &[u8]) -> String {
    if data.is_empty() {
        return "\"\"".into();
    }
    let quoted: Vec<String> = data
        .chunks(MAX_CHARACTER_STRING)
        .map(|chunk| {
            let mut s = String::with_capacity(chunk.len() + 2);
            s.push('"');
            for &b in chunk {
                if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
                    s.push(char::from(b));
                } else {
                    s.push_str(&format!("\\{b:03}"));
                }
            }
            s.push('"');
            s
        })
        .collect();
    quoted.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> MasterFile {
        master_file(&Zone::from_json(json).expect("test zone parses"))
    }

    /// The lines after the apex boilerplate.
    fn body(json: &str) -> Vec<String> {
        let f = file(json);
        assert_eq!(f.unservable, []);
        f.text
            .strip_prefix(APEX)
            .expect("apex first")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn writes_each_record_type() {
        assert_eq!(
            body(
                r#"{"example.com": [{"A": "192.0.2.1"}, {"AAAA": "2001:db8::1"},
                    {"MX": [10, "mx.example.com"]}, {"TXT": "v=spf1 -all"}],
                   "1.2.0.192.in-addr.arpa": [{"PTR": "example.com."}],
                   "alias.example.com": [{"CNAME": "example.com"}]}"#
            ),
            [
                "1.2.0.192.in-addr.arpa. IN PTR example.com.",
                "alias.example.com. IN CNAME example.com.",
                "example.com. IN A 192.0.2.1",
                "example.com. IN AAAA 2001:db8::1",
                "example.com. IN MX 10 mx.example.com.",
                "example.com. IN TXT \"v=spf1 -all\"",
            ]
        );
    }

    #[test]
    fn spf_is_txt_unless_the_name_has_txt() {
        assert_eq!(
            body(
                r#"{"a.test": [{"SPF": "v=spf1 -all"}],
                   "b.test": [{"SPF": "v=spf1 -all"}, {"TXT": "other"}],
                   "c.test": [{"SPF": "v=spf1 -all"}, {"TXT": "NONE"}]}"#
            ),
            [
                "a.test. IN TXT \"v=spf1 -all\"",
                "b.test. IN SPF \"v=spf1 -all\"",
                "b.test. IN TXT \"other\"",
                "c.test. IN SPF \"v=spf1 -all\"",
            ]
        );
    }

    #[test]
    fn names_without_data_still_exist() {
        assert_eq!(
            body(r#"{"empty.test": [], "none.test": [{"TXT": "NONE"}]}"#),
            [
                "empty.test. IN TYPE65280 \\# 0",
                "none.test. IN TYPE65280 \\# 0"
            ]
        );
    }

    #[test]
    fn escapes_names_and_text() {
        assert_eq!(
            body(
                r#"{"foo:bar/baz.Example.com": [{"TXT": ["a \"q\" \\ ;", "", "caf\u00e9"]}],
                   "macro%percent  space.test": [{"MX": [0, "x y.test"]}]}"#
            ),
            [
                "foo\\058bar\\047baz.example.com. IN TXT \"a \\034q\\034 \\092 ;caf\\195\\169\"",
                "macro\\037percent\\032\\032space.test. IN MX 0 x\\032y.test.",
            ]
        );
    }

    #[test]
    fn splits_text_into_255_byte_strings() {
        let text = "x".repeat(600);
        let lines = body(&format!(r#"{{"long.test": [{{"TXT": "{text}"}}]}}"#));
        let want = format!(
            "long.test. IN TXT \"{}\" \"{}\" \"{}\"",
            "x".repeat(255),
            "x".repeat(255),
            "x".repeat(90)
        );
        assert_eq!(lines, [want]);
        assert_eq!(
            body(r#"{"e.test": [{"TXT": ""}]}"#),
            ["e.test. IN TXT \"\""]
        );
    }

    #[test]
    fn reports_what_dns_cannot_say() {
        let long = ["a".repeat(60).as_str(); 5].join(".");
        let f = file(&format!(
            r#"{{"timeout.test": [{{"TXT": "v=spf1 -all"}}, "TIMEOUT"],
               "both.test": [{{"CNAME": "x.test"}}, {{"A": "192.0.2.1"}}],
               "twice.test": [{{"A": "192.0.2.1"}}, {{"A": "192.0.2.1"}}],
               "*.wild.test": [{{"A": "192.0.2.1"}}],
               "{}.test": [{{"A": "192.0.2.1"}}],
               "{long}": [],
               "badmx.test": [{{"MX": [1, "a..b"]}}],
               "fine.test": [{{"A": "192.0.2.1"}}]}}"#,
            "l".repeat(64)
        ));
        let names: Vec<&str> = f.unservable.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "*.wild.test",
                long.as_str(),
                "badmx.test",
                "both.test",
                &format!("{}.test", "l".repeat(64)),
                "timeout.test",
                "twice.test",
            ]
        );
        assert!(f.text.ends_with("fine.test. IN A 192.0.2.1\n"));
        assert!(!f.text.contains("timeout"));
    }
}
