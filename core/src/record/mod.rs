//! SPF records (RFC 7208 §4.5, §5, §6, §12): selection, a zero-copy AST, and its
//! canonical text form.
//!
//! ```
//! use spfgate::record::{Mechanism, Qualifier, Record};
//! let record = Record::parse("v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all")?;
//! assert_eq!(record.directives().count(), 3);
//! let last = record.directives().last().unwrap();
//! assert_eq!((last.qualifier, &last.mechanism), (Qualifier::Fail, &Mechanism::All));
//! assert_eq!(record.to_string(), "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all");
//! # Ok::<(), spfgate::record::ParseError>(())
//! ```

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use ipnet::{Ipv4Net, Ipv6Net};

pub use self::error::{ParseError, ParseErrorKind};
use self::macros::MacroString;
pub use self::select::{Selection, is_spf_record, select_record};

pub(crate) use self::parser::visit_terms_bytes;

mod error;
pub mod macros;
mod parser;
mod select;

/// A parsed SPF record, borrowing its strings from the text it was parsed from.
///
/// Equality compares the terms only, not where they were in the text, so a record
/// equals the parse of its own `Display` output.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    terms: Vec<Term<'a>>,
    /// The parsed text: term spans are found again from it when asked for, so a parse
    /// allocates one vector, not two.
    text: Cow<'a, str>,
}

/// A record detached from its text, for storage.
pub type OwnedRecord = Record<'static>;

/// What checking a record's text gave: the record or why it is not one. For front
/// ends that show either; with the `serde` feature it serializes as
/// `{"valid": true, "record": …, "terms": […]}` (the [`Record`]'s fields) or
/// `{"valid": false, "error": {…}}` (the [`ParseError`]).
///
/// ```
/// use spfgate::record::Parsed;
/// assert!(matches!(Parsed::from_bytes(b"v=spf1 -all"), Parsed::Valid(_)));
/// assert!(matches!(Parsed::from_bytes(b"v=spf1 -all:x"), Parsed::Invalid(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// The text is a valid record.
    Valid(Record<'a>),
    /// It is not; where and why.
    Invalid(ParseError),
}

impl<'a> Parsed<'a> {
    /// Parses a record given as bytes, as [`Record::parse_bytes`] does.
    pub fn from_bytes(bytes: &'a [u8]) -> Self {
        Record::parse_bytes(bytes).into()
    }
}

impl<'a> From<Result<Record<'a>, ParseError>> for Parsed<'a> {
    fn from(result: Result<Record<'a>, ParseError>) -> Self {
        match result {
            Ok(record) => Parsed::Valid(record),
            Err(error) => Parsed::Invalid(error),
        }
    }
}

/// A byte range in the parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte (0-based).
    pub start: usize,
    /// Length in bytes.
    pub len: usize,
}

impl Span {
    /// One past the last byte.
    pub fn end(&self) -> usize {
        self.start + self.len
    }
}

impl PartialEq for Record<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms
    }
}

impl Eq for Record<'_> {}

impl<'a> Record<'a> {
    /// Parses one record's text (`v=spf1 ...`).
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        parser::parse_record(text)
    }

    /// Parses a record given as bytes (as TXT data arrives); non-ASCII bytes are an error
    /// pointing at the first such byte.
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Self, ParseError> {
        parser::parse_record_bytes(bytes)
    }

    pub(crate) fn from_parts(terms: Vec<Term<'a>>, text: &'a str) -> Self {
        Record {
            terms,
            text: Cow::Borrowed(text),
        }
    }

    /// All terms in order.
    pub fn terms(&self) -> &[Term<'a>] {
        &self.terms
    }

    /// Terms with their byte spans in the parsed text.
    pub fn spanned_terms(&self) -> impl Iterator<Item = (&Term<'a>, Span)> {
        let spans = parser::term_bounds(&self.text, parser::VERSION_LEN).map(|(start, end)| Span {
            start,
            len: end - start,
        });
        self.terms.iter().zip(spans)
    }

    /// The mechanisms, in evaluation order.
    pub fn directives(&self) -> impl Iterator<Item = &Directive<'a>> {
        self.terms.iter().filter_map(|t| match t {
            Term::Directive(d) => Some(d),
            Term::Modifier(_) => None,
        })
    }

    /// The `redirect=` target, if any.
    pub fn redirect(&self) -> Option<&MacroString<'a>> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Redirect(d)) => Some(d),
            _ => None,
        })
    }

    /// The `exp=` domain, if any.
    pub fn explanation(&self) -> Option<&MacroString<'a>> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Explanation(d)) => Some(d),
            _ => None,
        })
    }

    /// Detaches the record from its text.
    pub fn into_owned(self) -> OwnedRecord {
        Record {
            terms: self.terms.into_iter().map(Term::into_owned).collect(),
            text: Cow::Owned(self.text.into_owned()),
        }
    }
}

impl fmt::Display for Record<'_> {
    /// The canonical text: `v=spf1`, single spaces, implicit `+` and default CIDR
    /// lengths left out, names in lower case.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=spf1")?;
        for term in &self.terms {
            write!(f, " {term}")?;
        }
        Ok(())
    }
}

/// A directive or a modifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term<'a> {
    /// `[qualifier] mechanism`.
    Directive(Directive<'a>),
    /// `name=value`.
    Modifier(Modifier<'a>),
}

impl Term<'_> {
    fn into_owned(self) -> Term<'static> {
        match self {
            Term::Directive(d) => Term::Directive(Directive {
                qualifier: d.qualifier,
                mechanism: d.mechanism.into_owned(),
            }),
            Term::Modifier(m) => Term::Modifier(m.into_owned()),
        }
    }
}

impl fmt::Display for Term<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Directive(d) => d.fmt(f),
            Term::Modifier(m) => m.fmt(f),
        }
    }
}

/// The result a matching mechanism produces.
///
/// Serialized as the result it yields: `"pass"`, `"fail"`, `"softfail"`, `"neutral"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum Qualifier {
    /// `+` (the default).
    #[default]
    Pass,
    /// `-`.
    Fail,
    /// `~`.
    SoftFail,
    /// `?`.
    Neutral,
}

impl Qualifier {
    /// The qualifier character.
    pub fn as_char(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

/// A qualifier and a mechanism.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Directive<'a> {
    /// The result when the mechanism matches.
    pub qualifier: Qualifier,
    /// What to match.
    pub mechanism: Mechanism<'a>,
}

impl fmt::Display for Directive<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.qualifier != Qualifier::Pass {
            f.write_char(self.qualifier.as_char())?;
        }
        self.mechanism.fmt(f)
    }
}

/// CIDR lengths for `a` and `mx` (`/n`, `//m`, `/n//m`); 32 and 128 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DualCidr {
    /// Prefix length applied to IPv4 addresses (0–32).
    pub v4: u8,
    /// Prefix length applied to IPv6 addresses (0–128).
    pub v6: u8,
}

impl Default for DualCidr {
    fn default() -> Self {
        DualCidr { v4: 32, v6: 128 }
    }
}

impl fmt::Display for DualCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.v4 != 32 {
            write!(f, "/{}", self.v4)?;
        }
        if self.v6 != 128 {
            write!(f, "//{}", self.v6)?;
        }
        Ok(())
    }
}

/// The mechanisms of RFC 7208 §5.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive] // SPF extensions may define mechanisms; match with a wildcard arm.
pub enum Mechanism<'a> {
    /// `all`: always matches.
    All,
    /// `include:domain`: matches when the domain's record passes.
    Include(MacroString<'a>),
    /// `a[:domain][cidr]`: the client is one of the domain's addresses.
    A {
        /// Target; the current domain when absent.
        domain: Option<MacroString<'a>>,
        /// Prefix lengths.
        cidr: DualCidr,
    },
    /// `mx[:domain][cidr]`: the client is an address of one of the domain's MX hosts.
    Mx {
        /// Target; the current domain when absent.
        domain: Option<MacroString<'a>>,
        /// Prefix lengths.
        cidr: DualCidr,
    },
    /// `ptr[:domain]`: the client's validated reverse name is in the domain (deprecated).
    Ptr(Option<MacroString<'a>>),
    /// `ip4:network`; host bits are kept as written.
    Ip4(Ipv4Net),
    /// `ip6:network`; host bits are kept as written.
    Ip6(Ipv6Net),
    /// `exists:domain`: matches when the domain has an A record.
    Exists(MacroString<'a>),
}

impl Mechanism<'_> {
    /// The mechanism name in lower case.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::All => "all",
            Mechanism::Include(_) => "include",
            Mechanism::A { .. } => "a",
            Mechanism::Mx { .. } => "mx",
            Mechanism::Ptr(_) => "ptr",
            Mechanism::Ip4(_) => "ip4",
            Mechanism::Ip6(_) => "ip6",
            Mechanism::Exists(_) => "exists",
        }
    }

    /// True for the mechanisms that cost a DNS-querying term (RFC 7208 §4.6.4).
    pub fn queries_dns(&self) -> bool {
        matches!(
            self,
            Mechanism::Include(_)
                | Mechanism::A { .. }
                | Mechanism::Mx { .. }
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }

    fn into_owned(self) -> Mechanism<'static> {
        match self {
            Mechanism::All => Mechanism::All,
            Mechanism::Include(d) => Mechanism::Include(d.into_owned()),
            Mechanism::A { domain, cidr } => Mechanism::A {
                domain: domain.map(MacroString::into_owned),
                cidr,
            },
            Mechanism::Mx { domain, cidr } => Mechanism::Mx {
                domain: domain.map(MacroString::into_owned),
                cidr,
            },
            Mechanism::Ptr(d) => Mechanism::Ptr(d.map(MacroString::into_owned)),
            Mechanism::Ip4(n) => Mechanism::Ip4(n),
            Mechanism::Ip6(n) => Mechanism::Ip6(n),
            Mechanism::Exists(d) => Mechanism::Exists(d.into_owned()),
        }
    }
}

/// `:domain-spec`, without the formatting machinery: outcomes show a mechanism each.
fn write_domain(f: &mut fmt::Formatter<'_>, spec: &MacroString<'_>) -> fmt::Result {
    f.write_char(':')?;
    f.write_str(spec.as_str())
}

impl fmt::Display for Mechanism<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Mechanism::All => Ok(()),
            Mechanism::Include(d) | Mechanism::Exists(d) => write_domain(f, d),
            Mechanism::A { domain, cidr } | Mechanism::Mx { domain, cidr } => {
                if let Some(d) = domain {
                    write_domain(f, d)?;
                }
                cidr.fmt(f)
            }
            Mechanism::Ptr(d) => match d {
                Some(d) => write_domain(f, d),
                None => Ok(()),
            },
            Mechanism::Ip4(n) => {
                write!(f, ":{}", n.addr())?;
                if n.prefix_len() != 32 {
                    write!(f, "/{}", n.prefix_len())?;
                }
                Ok(())
            }
            Mechanism::Ip6(n) => {
                write!(f, ":{}", n.addr())?;
                if n.prefix_len() != 128 {
                    write!(f, "/{}", n.prefix_len())?;
                }
                Ok(())
            }
        }
    }
}

/// The modifiers of RFC 7208 §6, and any other `name=value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Modifier<'a> {
    /// `redirect=domain`.
    Redirect(MacroString<'a>),
    /// `exp=domain`.
    Explanation(MacroString<'a>),
    /// A modifier SPF does not define (e.g. RFC 6652 `ra=`); ignored by evaluation.
    Unknown {
        /// The name as written.
        name: Cow<'a, str>,
        /// The value, a macro-string.
        value: MacroString<'a>,
    },
}

impl Modifier<'_> {
    fn into_owned(self) -> Modifier<'static> {
        match self {
            Modifier::Redirect(d) => Modifier::Redirect(d.into_owned()),
            Modifier::Explanation(d) => Modifier::Explanation(d.into_owned()),
            Modifier::Unknown { name, value } => Modifier::Unknown {
                name: Cow::Owned(name.into_owned()),
                value: value.into_owned(),
            },
        }
    }
}

impl fmt::Display for Modifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Modifier::Redirect(d) => write!(f, "redirect={d}"),
            Modifier::Explanation(d) => write!(f, "exp={d}"),
            Modifier::Unknown { name, value } => write!(f, "{name}={value}"),
        }
    }
}
