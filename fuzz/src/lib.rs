//! Shared input structures of the fuzz targets: a small zone built from fuzzer bytes
//! (SPF terms, macro-strings, raw bytes, addresses near the client, NXDOMAIN and
//! temporary failures), rendered against one client address and answering lookups.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::Arbitrary;
use spfgate::dns::{Answer, Lookup, QueryType, Rdata};

/// Names the zone and the records draw from.
pub const NAMES: &[&str] = &[
    "example.com",
    "a.example.com",
    "b.example.com",
    "mx.example.com",
    "_spf.example.net",
    "exp.example.com",
    "mail.example.org",
    "example.org",
];

/// Directives and modifiers records are built from.
pub const TERMS: &[&str] = &[
    "all",
    "-all",
    "~all",
    "?all",
    "+all",
    "a",
    "mx",
    "ptr",
    "-a",
    "~mx",
    "?ptr",
    "a/24",
    "a//64",
    "mx/0",
    "mx//0",
    "a/32//128",
    "ip4:192.0.2.0/24",
    "ip4:192.0.2.1",
    "-ip4:0.0.0.0/0",
    "ip4:198.51.100.0/31",
    "ip6:2001:db8::/32",
    "ip6:::/0",
    "-ip6:2001:db8::1",
    "exists:%{i}.example.com",
    "exists:%{ir}.%{v}._spf.%{d}",
    "exists:%{l}.%{o}",
    "exists:%{p}.example.com",
    "exists:%{s}.example.com",
    "exists:%{H}.example.com",
    "include:%{d}",
    "include:%{d2}",
    "include:%{o}",
    "a:%{p}",
    "a:%{h}",
    "a:%{d1r}.example.com",
    "mx:%{d}",
    "ptr:%{d}",
    "ptr:example.com",
    "redirect=%{d}",
    "redirect=%{o}",
    "exp=%{d}",
    "exp=exp.example.com",
    "exp=%{l}.exp.example.com",
    "ra=postmaster",
    "unknown=%{s}",
];

/// Explanation texts (macro-strings with the explanation-only letters).
pub const EXPLANATIONS: &[&str] = &[
    "%{c} is not one of %{d}'s designated mail senders.",
    "%{i} %{s} %{l} %{o} %{d} %{h} %{p} %{v}",
    "%{r} at %{t}",
    "%{C}%{c}%{c}%{c}%{c}%{c}%{c}%{c}",
    "%%%_%-",
    "%{x} is not a macro",
    "see http://%{d}/why?s=%{S}",
];

pub const VERSIONS: &[&str] = &[
    "v=spf1",
    "V=SPF1",
    "v=spf1 ",
    "v=spf10",
    "v=spf1\t",
    "spf2.0/pra",
];

pub const CLIENTS: &[&str] = &[
    "192.0.2.1",
    "192.0.2.200",
    "2001:db8::1",
    "::ffff:192.0.2.1",
    "10.0.0.1",
];

pub const MECHANISMS: &[(&str, char)] = &[
    ("include", ':'),
    ("a", ':'),
    ("mx", ':'),
    ("ptr", ':'),
    ("exists", ':'),
    ("redirect", '='),
    ("exp", '='),
];

pub const QUALIFIERS: &[&str] = &["", "+", "-", "~", "?"];

pub fn pick<'s>(list: &[&'s str], i: u8) -> &'s str {
    list[usize::from(i) % list.len()]
}

#[derive(Arbitrary, Debug)]
pub enum NameIn {
    Known(u8),
    /// The client's reverse-DNS name.
    Reverse,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
pub enum TermIn {
    Listed(u8),
    /// A mechanism or modifier naming one of the zone's names.
    Targeted {
        qualifier: u8,
        kind: u8,
        name: NameIn,
        v4: Option<u8>,
        v6: Option<u8>,
    },
    Raw(String),
}

#[derive(Arbitrary, Debug)]
pub enum ExplanationIn {
    Listed(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
pub enum TxtIn {
    Spf { version: u8, terms: Vec<TermIn> },
    Explanation(ExplanationIn),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
pub enum AddrIn {
    Client,
    /// The client with its last byte changed.
    Near(u8),
    V4([u8; 4]),
    V6([u8; 16]),
}

#[derive(Arbitrary, Debug)]
pub enum RdataIn {
    Addr(AddrIn),
    Mx(u16, NameIn),
    Txt(TxtIn),
    Ptr(NameIn),
}

#[derive(Arbitrary, Debug)]
pub enum AnswerIn {
    Records(Vec<RdataIn>),
    NxDomain,
    TempFail,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum QtypeIn {
    A,
    Aaaa,
    Mx,
    Txt,
    Ptr,
}

#[derive(Arbitrary, Debug)]
pub struct EntryIn {
    name: NameIn,
    qtype: QtypeIn,
    answer: AnswerIn,
}

#[derive(Arbitrary, Debug)]
pub enum ClientIn {
    Listed(u8),
    V4([u8; 4]),
    V6([u8; 16]),
}

impl ClientIn {
    /// The address as given.
    pub fn ip(&self) -> IpAddr {
        match self {
            ClientIn::Listed(i) => pick(CLIENTS, *i).parse().expect("listed clients parse"),
            ClientIn::V4(o) => IpAddr::from(*o),
            ClientIn::V6(o) => IpAddr::from(*o),
        }
    }
}

impl Render {
    /// Renders against `ip` as the evaluator treats it: IPv4-mapped IPv6 as IPv4.
    pub fn for_client(ip: IpAddr) -> Self {
        let client = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        Render { client }
    }
}

/// The zone rendered to answers.
pub struct Zone {
    entries: Vec<(String, QueryType, Answer)>,
    unlisted: Answer,
}

impl Zone {
    /// The answer to a lookup: the first listed entry for its name and type.
    pub fn resolve(&self, lookup: &Lookup) -> Answer {
        self.entries
            .iter()
            .find(|(name, qtype, _)| {
                *qtype == lookup.qtype && name.eq_ignore_ascii_case(&lookup.name)
            })
            .map_or_else(|| self.unlisted.clone(), |(_, _, answer)| answer.clone())
    }
}

/// Renders the structured input against one client address.
pub struct Render {
    /// The client as the evaluator sees it (IPv4-mapped addresses as IPv4).
    pub client: IpAddr,
}

impl Render {
    pub fn name(&self, n: &NameIn) -> String {
        match n {
            NameIn::Known(i) => pick(NAMES, *i).to_owned(),
            NameIn::Reverse => reverse_name(self.client),
            NameIn::Raw(s) => s.clone(),
        }
    }

    pub fn term(&self, t: &TermIn) -> String {
        match t {
            TermIn::Listed(i) => pick(TERMS, *i).to_owned(),
            TermIn::Targeted {
                qualifier,
                kind,
                name,
                v4,
                v6,
            } => {
                let (mechanism, separator) = MECHANISMS[usize::from(*kind) % MECHANISMS.len()];
                let mut out = String::new();
                if separator == ':' {
                    out.push_str(pick(QUALIFIERS, *qualifier));
                }
                let _ = write!(out, "{mechanism}{separator}{}", self.name(name));
                if matches!(mechanism, "a" | "mx") {
                    if let Some(v4) = v4 {
                        let _ = write!(out, "/{}", v4 % 40);
                    }
                    if let Some(v6) = v6 {
                        let _ = write!(out, "//{}", v6 % 140);
                    }
                }
                out
            }
            TermIn::Raw(s) => s.clone(),
        }
    }

    pub fn txt(&self, t: &TxtIn) -> Vec<u8> {
        match t {
            TxtIn::Spf { version, terms } => {
                let mut out = pick(VERSIONS, *version).to_owned();
                for term in terms {
                    out.push(' ');
                    out.push_str(&self.term(term));
                }
                out.into_bytes()
            }
            TxtIn::Explanation(e) => explanation(e).into_bytes(),
            TxtIn::Raw(bytes) => bytes.clone(),
        }
    }

    pub fn addr(&self, a: &AddrIn) -> Rdata {
        match (a, self.client) {
            (AddrIn::Client, IpAddr::V4(ip)) => Rdata::A(ip),
            (AddrIn::Client, IpAddr::V6(ip)) => Rdata::Aaaa(ip),
            (AddrIn::Near(x), IpAddr::V4(ip)) => {
                let mut o = ip.octets();
                o[3] ^= x;
                Rdata::A(Ipv4Addr::from(o))
            }
            (AddrIn::Near(x), IpAddr::V6(ip)) => {
                let mut o = ip.octets();
                o[15] ^= x;
                Rdata::Aaaa(Ipv6Addr::from(o))
            }
            (AddrIn::V4(o), _) => Rdata::A(Ipv4Addr::from(*o)),
            (AddrIn::V6(o), _) => Rdata::Aaaa(Ipv6Addr::from(*o)),
        }
    }

    pub fn answer(&self, a: &AnswerIn) -> Answer {
        match a {
            AnswerIn::NxDomain => Answer::NxDomain,
            AnswerIn::TempFail => Answer::temp_fail("timeout"),
            AnswerIn::Records(rs) => Answer::Records(
                rs.iter()
                    .map(|r| match r {
                        RdataIn::Addr(a) => self.addr(a),
                        RdataIn::Mx(preference, exchange) => Rdata::Mx {
                            preference: *preference,
                            exchange: self.name(exchange),
                        },
                        RdataIn::Txt(t) => Rdata::Txt(self.txt(t)),
                        RdataIn::Ptr(n) => Rdata::Ptr(self.name(n)),
                    })
                    .collect(),
            ),
        }
    }

    pub fn zone(&self, entries: &[EntryIn], unlisted: &AnswerIn) -> Zone {
        let entries = entries
            .iter()
            .map(|e| {
                let name = self.name(&e.name);
                let name = name.strip_suffix('.').unwrap_or(&name).to_owned();
                let qtype = match e.qtype {
                    QtypeIn::A => QueryType::A,
                    QtypeIn::Aaaa => QueryType::Aaaa,
                    QtypeIn::Mx => QueryType::Mx,
                    QtypeIn::Txt => QueryType::Txt,
                    QtypeIn::Ptr => QueryType::Ptr,
                };
                (name, qtype, self.answer(&e.answer))
            })
            .collect();
        Zone {
            entries,
            unlisted: self.answer(unlisted),
        }
    }
}

pub fn explanation(e: &ExplanationIn) -> String {
    match e {
        ExplanationIn::Listed(i) => pick(EXPLANATIONS, *i).to_owned(),
        ExplanationIn::Raw(s) => s.clone(),
    }
}

/// `in-addr.arpa` / `ip6.arpa` name of an address.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut out = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                let _ = write!(out, "{:x}.{:x}.", byte & 0xf, byte >> 4);
            }
            out.push_str("ip6.arpa");
            out
        }
    }
}

/// A lookup as `Lookup::name` documents it: ASCII, no trailing dot, at most 253 octets
/// in labels of 1 to 63.
pub fn check_lookup(lookup: &Lookup) {
    let name = &lookup.name;
    assert!(
        name.len() <= 253
            && name.is_ascii()
            && name.split('.').all(|l| (1..=63).contains(&l.len())),
        "invalid lookup name {name:?}"
    );
}

/// The fuzzer's say over answer order: which outstanding lookup is answered next, and
/// when to poll instead. Once its bytes run out, the rest is answered newest first.
pub struct Schedule<'a> {
    bytes: std::slice::Iter<'a, u8>,
    answered_since_poll: bool,
}

impl<'a> Schedule<'a> {
    /// A schedule read from the fuzzer's bytes.
    pub fn new(bytes: &'a [u8]) -> Self {
        Schedule {
            bytes: bytes.iter(),
            answered_since_poll: false,
        }
    }

    /// Takes the lookup to answer next out of `outstanding`, or `None` when it is time
    /// to poll (nothing outstanding, or the schedule says so after an answer).
    pub fn next_answer(&mut self, outstanding: &mut Vec<Lookup>) -> Option<Lookup> {
        if outstanding.is_empty() {
            return None;
        }
        let choice = self.bytes.next().copied();
        if choice.is_some_and(|c| c & 1 == 0) && self.answered_since_poll {
            return None;
        }
        let i = choice.map_or(outstanding.len() - 1, |c| {
            usize::from(c >> 1) % outstanding.len()
        });
        self.answered_since_poll = true;
        Some(outstanding.swap_remove(i))
    }

    /// Notes a poll, so the next answer is unconditional.
    pub fn polled(&mut self) {
        self.answered_since_poll = false;
    }
}
