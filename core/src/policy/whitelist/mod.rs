//! The whitelist text field: IP addresses, networks and ranges typed by an admin.
//!
//! Admins type the list by hand, so the parser accepts what people write:
//! entries separated by newlines, spaces, commas or semicolons in any mix, `#`
//! comments, single addresses, CIDR networks and `start-end` ranges (also with
//! blanks around the dash). Everything else is reported with its line and
//! column instead of being guessed at: `01.2.3.4` is rejected because some
//! software reads leading zeros as octal, and a zone id such as `%eth0` is
//! rejected because it names an interface of one host, not a network.
//!
//! [`parse_whitelist`] is lenient: it keeps every valid entry and collects the
//! problems, which suits a settings page that shows them next to the field.
//! [`parse_whitelist_strict`] rejects the whole text on any error, which suits
//! the code that saves the settings.
//!
//! ```
//! use spfgate::policy::whitelist::{parse_whitelist, WhitelistErrorKind};
//!
//! let report = parse_whitelist("192.0.2.0/24, 10.0.0.1-10.0.0.6 # office\n01.2.3.4");
//! assert_eq!(report.entries.len(), 2);
//! assert_eq!(report.entries[1].networks.len(), 4); // .1/32 .2/31 .4/31 .6/32
//! assert_eq!(report.errors[0].line, 2);
//! assert!(matches!(report.errors[0].kind, WhitelistErrorKind::LeadingZero { .. }));
//! ```
//!
//! Hostile input is bounded: at most [`MAX_NETWORKS`] networks are kept, at
//! most [`MAX_DIAGNOSTICS`] errors and warnings of each sort are stored (the
//! rest are only counted), an entry longer than [`MAX_ENTRY_LEN`] bytes is not
//! parsed, and a range expands to at most 2 × 32 (IPv4) or 2 × 128 (IPv6)
//! networks. Parsing is one pass over the text plus one sort of the networks.

use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use self::analysis::Builder;
#[cfg(feature = "serde")]
use self::serde_text::{serialize_display, serialize_networks};

mod analysis;
mod cover;
#[cfg(feature = "serde")]
mod serde_text;
mod text;

/// Most networks one whitelist may hold; beyond it parsing stops with
/// [`WhitelistErrorKind::TooManyNetworks`]. A hand-typed field never comes
/// near it; the limit keeps memory bounded when the text is hostile.
pub const MAX_NETWORKS: usize = 100_000;

/// Most errors, and separately most warnings, stored in a report. Further
/// ones are counted in [`WhitelistReport::errors_omitted`] and
/// [`WhitelistReport::warnings_omitted`], so 10 MB of garbage costs kilobytes.
pub const MAX_DIAGNOSTICS: usize = 1_000;

/// Longest entry, in bytes, that is parsed. The longest valid form, an IPv6
/// range with embedded IPv4 on both sides, is about 100 bytes.
pub const MAX_ENTRY_LEN: usize = 256;

/// Characters of an offending entry kept in a diagnostic's `text`.
const MAX_QUOTED_CHARS: usize = 64;

/// One accepted whitelist entry: what the admin typed and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Entry {
    /// The normalized networks: one for an address or CIDR (host bits
    /// cleared), the minimal CIDR cover for a range. Serialized as text.
    #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_networks"))]
    pub networks: Vec<IpNet>,
    /// The entry exactly as typed.
    pub text: String,
    /// 1-based line (for [`parse_whitelist_lines`], the 1-based index of the string).
    pub line: usize,
    /// 1-based column, counted in characters, where the entry starts.
    pub column: usize,
    /// Byte range of the entry in the parsed text (in its own string for
    /// [`parse_whitelist_lines`]).
    pub span: Range<usize>,
}

/// An entry that was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[error("line {line}, column {column}: `{text}` — {kind}")]
pub struct WhitelistError {
    /// 1-based line of the offending entry.
    pub line: usize,
    /// 1-based column, in characters, where the offending entry starts.
    pub column: usize,
    /// Byte range of the offending entry.
    pub span: Range<usize>,
    /// The offending entry as typed (cut after 64 characters).
    pub text: String,
    /// What is wrong with it.
    pub kind: WhitelistErrorKind,
}

/// What is wrong with an entry. `Display` gives the message for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "code", rename_all = "snake_case")
)]
#[non_exhaustive] // New checks may be added without breaking callers' matches.
pub enum WhitelistErrorKind {
    /// Neither an address, a network nor a range (a host name, a wildcard...).
    #[error("not an IP address, network or range (host names and wildcards are not accepted)")]
    UnknownToken,
    /// An address is missing, as in `/24` or `192.0.2.1-`.
    #[error("an address is missing")]
    Empty,
    /// An IPv4 address without exactly four octets.
    #[error("an IPv4 address has 4 octets, this one has {found}")]
    OctetCount {
        /// How many dot-separated parts were found.
        found: usize,
    },
    /// An octet that is empty or above 255.
    #[error("octet `{octet}` is not a number from 0 to 255")]
    BadOctet {
        /// The octet as typed.
        octet: String,
    },
    /// A leading zero in an octet or prefix length: `010.0.0.1` is
    /// `10.0.0.1` to some software and octal `8.0.0.1` to others.
    #[error("leading zero in `{part}` (some software reads it as octal)")]
    LeadingZero {
        /// The octet or prefix length as typed.
        part: String,
    },
    /// A prefix length above 32 (IPv4) or 128 (IPv6).
    #[error("prefix length {prefix} is above {max}")]
    PrefixTooLong {
        /// The prefix length (saturated at `u32::MAX`).
        prefix: u32,
        /// 32 or 128.
        max: u8,
    },
    /// A prefix length that is not a number, as in `192.0.2.0/` or `/2a`.
    #[error("prefix length `{prefix}` is not a number")]
    BadPrefix {
        /// The prefix length as typed.
        prefix: String,
    },
    /// An IPv6 address that breaks RFC 4291 section 2.2.
    #[error("invalid IPv6 address: {detail}")]
    Ipv6Syntax {
        /// Which rule is broken.
        detail: &'static str,
    },
    /// An IPv6 zone id (`fe80::1%eth0`): it names an interface of one host,
    /// which means nothing to a gateway elsewhere.
    #[error("zone id `%{zone}` is not allowed")]
    ZoneIdNotAllowed {
        /// The zone id without the `%`.
        zone: String,
    },
    /// A range whose start comes after its end.
    #[error("range start {start} is after its end {end}")]
    RangeReversed {
        /// First address typed.
        start: IpAddr,
        /// Second address typed.
        end: IpAddr,
    },
    /// A range from an IPv4 to an IPv6 address or back.
    #[error("a range cannot mix IPv4 and IPv6")]
    RangeMixedFamilies,
    /// A range with more than one `-` or with a prefix length on one side.
    #[error("invalid range: {detail}")]
    BadRange {
        /// Which rule is broken.
        detail: &'static str,
    },
    /// An entry longer than [`MAX_ENTRY_LEN`] bytes.
    #[error("entry is longer than {max} bytes")]
    TooLong {
        /// [`MAX_ENTRY_LEN`].
        max: usize,
    },
    /// The whitelist holds more than [`MAX_NETWORKS`] networks; parsing
    /// stopped at this entry.
    #[error("more than {max} networks; the rest of the list was not read")]
    TooManyNetworks {
        /// [`MAX_NETWORKS`].
        max: usize,
    },
}

/// An accepted entry that is probably not what the admin meant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct WhitelistWarning {
    /// 1-based line of the entry.
    pub line: usize,
    /// 1-based column, in characters, where the entry starts.
    pub column: usize,
    /// Byte range of the entry.
    pub span: Range<usize>,
    /// The entry as typed.
    pub text: String,
    /// What looks wrong.
    pub kind: WhitelistWarningKind,
}

impl fmt::Display for WhitelistWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: `{}` — {}",
            self.line, self.column, self.text, self.kind
        )
    }
}

/// Why an accepted entry deserves a second look. `Display` gives the message.
///
/// The special-purpose kinds carry the registered block the entry falls in
/// (RFC 6890 and the IANA special-purpose registries).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "code", rename_all = "snake_case")
)]
#[non_exhaustive] // New checks may be added without breaking callers' matches.
pub enum WhitelistWarningKind {
    /// Bits after the prefix were set (`192.0.2.1/24`); the entry was
    /// normalized to the network that contains them.
    HostBitsSet {
        /// The network used instead.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        normalized: IpNet,
    },
    /// The same networks were listed before.
    Duplicate {
        /// Line of the earlier entry.
        line: usize,
        /// Column of the earlier entry.
        column: usize,
    },
    /// Every network of the entry is already inside another entry.
    ContainedIn {
        /// The covering network.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        other: IpNet,
        /// Line of the entry holding it.
        line: usize,
        /// Column of the entry holding it.
        column: usize,
    },
    /// `0.0.0.0/0` or `::/0`: the whole address family is allowed.
    WholeInternet,
    /// A private network (RFC 1918, or IPv6 unique local fc00::/7): never
    /// the source of mail arriving over the internet.
    PrivateRange {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// Loopback (127.0.0.0/8, ::1).
    Loopback {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// Reserved for documentation (RFC 5737, RFC 3849, RFC 9637): an
    /// example copied from a manual.
    Documentation {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// Link-local (169.254.0.0/16, fe80::/10): not routed.
    LinkLocal {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// Carrier-grade NAT space (100.64.0.0/10, RFC 6598): shared by many
    /// customers of one provider.
    SharedAddressSpace {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// Multicast (224.0.0.0/4, ff00::/8): never a mail client.
    Multicast {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// Reserved (240.0.0.0/4, including the broadcast address).
    Reserved {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// "This network" (0.0.0.0/8) or the IPv6 unspecified address.
    Unspecified {
        /// The registered block.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        block: IpNet,
    },
    /// An IPv4-mapped IPv6 network (`::ffff:192.0.2.1`): it is matched as
    /// the IPv4 network it maps, which is the clearer way to write it.
    Ipv4Mapped {
        /// The IPv4 network it stands for.
        #[cfg_attr(feature = "serde", serde(serialize_with = "serialize_display"))]
        ipv4: Ipv4Net,
    },
}

impl fmt::Display for WhitelistWarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use WhitelistWarningKind as K;
        match self {
            K::HostBitsSet { normalized } => {
                write!(f, "host bits are set; using {normalized}")
            }
            K::Duplicate { line, column } => {
                write!(f, "duplicate of the entry at line {line}, column {column}")
            }
            K::ContainedIn {
                other,
                line,
                column,
            } => write!(
                f,
                "already covered by {other} (line {line}, column {column})"
            ),
            K::WholeInternet => f.write_str("allows every address of its family"),
            K::PrivateRange { block } => write!(f, "private network ({block})"),
            K::Loopback { block } => write!(f, "loopback ({block})"),
            K::Documentation { block } => {
                write!(f, "reserved for documentation ({block})")
            }
            K::LinkLocal { block } => write!(f, "link-local, not routed ({block})"),
            K::SharedAddressSpace { block } => {
                write!(f, "carrier-grade NAT space shared by many users ({block})")
            }
            K::Multicast { block } => write!(f, "multicast ({block})"),
            K::Reserved { block } => write!(f, "reserved address space ({block})"),
            K::Unspecified { block } => write!(f, "unspecified address ({block})"),
            K::Ipv4Mapped { ipv4 } => {
                write!(f, "IPv4-mapped; it matches IPv4 clients in {ipv4}")
            }
        }
    }
}

/// Everything found in a whitelist text: the accepted entries and the problems.
///
/// Plain data: it serializes to JSON for a settings page, networks as text, with
/// an `ok` field saying [`is_ok`](Self::is_ok).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhitelistReport {
    /// Accepted entries in the order they were typed.
    pub entries: Vec<Entry>,
    /// Rejected entries in the order they were typed (at most [`MAX_DIAGNOSTICS`]).
    pub errors: Vec<WhitelistError>,
    /// Doubtful accepted entries, ordered by position (at most [`MAX_DIAGNOSTICS`]).
    pub warnings: Vec<WhitelistWarning>,
    /// Errors found beyond [`MAX_DIAGNOSTICS`] and not stored.
    pub errors_omitted: usize,
    /// Warnings found beyond [`MAX_DIAGNOSTICS`] and not stored.
    pub warnings_omitted: usize,
}

impl WhitelistReport {
    /// True when no entry was rejected.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && self.errors_omitted == 0
    }

    /// All accepted networks, entry by entry.
    pub fn networks(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.entries.iter().flat_map(|e| e.networks.iter().copied())
    }

    /// The checked whitelist, or the report itself if any entry was rejected.
    ///
    /// ```
    /// use spfgate::policy::whitelist::parse_whitelist;
    ///
    /// assert!(parse_whitelist("192.0.2.1").into_whitelist().is_ok());
    /// assert!(parse_whitelist("192.0.2.1 nonsense").into_whitelist().is_err());
    /// ```
    pub fn into_whitelist(self) -> Result<Whitelist, WhitelistRejected> {
        if self.is_ok() {
            Ok(Whitelist {
                entries: self.entries,
                warnings: self.warnings,
                warnings_omitted: self.warnings_omitted,
            })
        } else {
            Err(WhitelistRejected { report: self })
        }
    }
}

/// A whitelist without errors, as accepted by [`parse_whitelist_strict`].
///
/// Its `Display` is the canonical text: one normalized network per line,
/// which parses back to the same networks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Whitelist {
    entries: Vec<Entry>,
    warnings: Vec<WhitelistWarning>,
    warnings_omitted: usize,
}

impl Whitelist {
    /// The entries in the order they were typed.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Warnings about accepted entries (at most [`MAX_DIAGNOSTICS`]).
    pub fn warnings(&self) -> &[WhitelistWarning] {
        &self.warnings
    }

    /// Warnings found beyond [`MAX_DIAGNOSTICS`] and not stored.
    pub fn warnings_omitted(&self) -> usize {
        self.warnings_omitted
    }

    /// All networks, entry by entry.
    pub fn networks(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.entries.iter().flat_map(|e| e.networks.iter().copied())
    }
}

impl fmt::Display for Whitelist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.networks().try_for_each(|net| writeln!(f, "{net}"))
    }
}

/// [`parse_whitelist_strict`] found errors; the full report is inside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("whitelist rejected: {} error(s), first: {}", self.error_count(), self.first_error())]
pub struct WhitelistRejected {
    /// What the lenient parse found, errors included.
    pub report: WhitelistReport,
}

impl WhitelistRejected {
    fn error_count(&self) -> usize {
        self.report
            .errors
            .len()
            .saturating_add(self.report.errors_omitted)
    }

    fn first_error(&self) -> &dyn fmt::Display {
        match self.report.errors.first() {
            Some(e) => e,
            None => &"(not stored)",
        }
    }
}

/// Parses a whitelist text leniently: valid entries are kept, problems collected.
///
/// Entries are separated by any mix of newlines, blanks, commas and
/// semicolons; `#` starts a comment that runs to the end of the line.
///
/// ```
/// use spfgate::policy::whitelist::parse_whitelist;
///
/// let report = parse_whitelist("192.0.2.1/24 ; 2001:db8::/32,,\n::ffff:192.0.2.1");
/// let nets: Vec<String> = report.networks().map(|n| n.to_string()).collect();
/// assert_eq!(nets, ["192.0.2.0/24", "2001:db8::/32", "::ffff:192.0.2.1/128"]);
/// assert!(report.errors.is_empty());
/// ```
pub fn parse_whitelist(text: &str) -> WhitelistReport {
    let mut builder = Builder::default();
    builder.feed(text, None);
    builder.finish()
}

/// Parses a whitelist text and rejects it on any error.
///
/// ```
/// use spfgate::policy::whitelist::parse_whitelist_strict;
///
/// let list = parse_whitelist_strict("192.0.2.0 - 192.0.2.255\n2001:db8::1").unwrap();
/// assert_eq!(list.to_string(), "192.0.2.0/24\n2001:db8::1/128\n");
/// let rejected = parse_whitelist_strict("192.0.2.0/33").unwrap_err();
/// assert_eq!(rejected.report.errors[0].to_string(),
///            "line 1, column 1: `192.0.2.0/33` — prefix length 33 is above 32");
/// ```
pub fn parse_whitelist_strict(text: &str) -> Result<Whitelist, WhitelistRejected> {
    parse_whitelist(text).into_whitelist()
}

/// Parses a whitelist given as separate strings, each read like one line.
///
/// For callers that already hold the list split up (a JSON array, a form with
/// one input per address). A report's `line` is the index of the string plus
/// one, and spans are byte ranges inside that string.
///
/// ```
/// use spfgate::policy::whitelist::parse_whitelist_lines;
///
/// let report = parse_whitelist_lines(&["192.0.2.1", "bogus", "10.0.0.0/8"]);
/// assert_eq!(report.entries.len(), 2);
/// assert_eq!(report.errors[0].line, 2);
/// ```
pub fn parse_whitelist_lines<S: AsRef<str>>(lines: &[S]) -> WhitelistReport {
    let mut builder = Builder::default();
    for (index, line) in lines.iter().enumerate() {
        builder.feed(line.as_ref(), Some(index.saturating_add(1)));
    }
    builder.finish()
}

/// The IPv4 network an IPv4-mapped IPv6 network (inside `::ffff:0:0/96`) stands for.
pub(crate) fn mapped_ipv4(net: &Ipv6Net) -> Option<Ipv4Net> {
    let prefix = net.prefix_len().checked_sub(96)?;
    let addr = net.network().to_ipv4_mapped()?;
    Ipv4Net::new(addr, prefix).ok()
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::cover::cidr_cover;
    use super::text::{ip4_address, ip6_address};
    use super::*;
    use WhitelistErrorKind as E;
    use WhitelistWarningKind as W;
    use proptest::prelude::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn nets(report: &WhitelistReport) -> Vec<String> {
        report.networks().map(|n| n.to_string()).collect()
    }

    /// The single error of `text`, as (line, column, kind).
    fn only_error(text: &str) -> (usize, usize, WhitelistErrorKind) {
        let report = parse_whitelist(text);
        assert_eq!(report.errors.len(), 1, "{text:?}: {:?}", report.errors);
        let e = &report.errors[0];
        (e.line, e.column, e.kind.clone())
    }

    /// A warning as (line, column, kind).
    type Warned = (usize, usize, WhitelistWarningKind);

    fn warnings(text: &str) -> Vec<Warned> {
        let report = parse_whitelist(text);
        assert!(report.errors.is_empty(), "{text:?}: {:?}", report.errors);
        report
            .warnings
            .iter()
            .map(|w| (w.line, w.column, w.kind.clone()))
            .collect()
    }

    #[test]
    fn separators_in_any_mix_and_repetition() {
        let report = parse_whitelist(
            "192.0.2.1,198.51.100.1;;  2001:db8::1\n\n\t203.0.113.9 ,; ,\r\n10.0.0.1",
        );
        assert!(report.errors.is_empty());
        assert_eq!(
            nets(&report),
            [
                "192.0.2.1/32",
                "198.51.100.1/32",
                "2001:db8::1/128",
                "203.0.113.9/32",
                "10.0.0.1/32"
            ]
        );
        let positions: Vec<_> = report.entries.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(positions, [(1, 1), (1, 11), (1, 27), (3, 2), (4, 1)]);
        assert_eq!(report.entries[2].span, 26..37);
        assert_eq!(report.entries[2].text, "2001:db8::1");
    }

    #[test]
    fn comments_run_to_end_of_line() {
        let report =
            parse_whitelist("# office\n192.0.2.1 # main relay, 10.0.0.1\n#\n2001:db8::/48#v6");
        assert!(report.errors.is_empty());
        assert_eq!(nets(&report), ["192.0.2.1/32", "2001:db8::/48"]);
        assert_eq!(report.entries[1].line, 4);
    }

    #[test]
    fn columns_count_characters_and_spans_count_bytes() {
        let report = parse_whitelist("\u{a0}\u{a0}192.0.2.1 ü 192.0.2.2");
        assert_eq!(
            (report.entries[0].column, report.entries[0].span.clone()),
            (3, 4..13)
        );
        assert_eq!(
            (report.errors[0].column, report.errors[0].span.clone()),
            (13, 14..16)
        );
        assert_eq!(report.errors[0].kind, E::UnknownToken);
        assert_eq!(report.entries[1].column, 15);
    }

    #[test]
    fn empty_text_is_an_empty_whitelist() {
        for text in ["", "   \n\n", "# nothing yet", ",;,"] {
            let list = parse_whitelist_strict(text).unwrap();
            assert!(list.entries().is_empty());
        }
    }

    #[test]
    fn every_error_kind_with_its_position() {
        let cases: &[(&str, (usize, usize, WhitelistErrorKind))] = &[
            ("192.0.2.1\n  mail.example.com", (2, 3, E::UnknownToken)),
            ("10.0.0.*", (1, 1, E::UnknownToken)),
            ("3232235777", (1, 1, E::UnknownToken)),
            ("x /24", (1, 3, E::Empty)),
            ("\n\n192.0.2.1 -", (3, 1, E::Empty)),
            ("192.0.2", (1, 1, E::OctetCount { found: 3 })),
            ("192.0.2.1.5", (1, 1, E::OctetCount { found: 5 })),
            (
                "1.2.3.256",
                (
                    1,
                    1,
                    E::BadOctet {
                        octet: "256".into(),
                    },
                ),
            ),
            ("1..3.4", (1, 1, E::BadOctet { octet: "".into() })),
            ("01.2.3.4", (1, 1, E::LeadingZero { part: "01".into() })),
            ("1.2.3.00", (1, 1, E::LeadingZero { part: "00".into() })),
            (
                "192.0.2.0/024",
                (1, 1, E::LeadingZero { part: "024".into() }),
            ),
            (
                "x 192.0.2.0/33",
                (
                    1,
                    3,
                    E::PrefixTooLong {
                        prefix: 33,
                        max: 32,
                    },
                ),
            ),
            (
                "2001:db8::/129",
                (
                    1,
                    1,
                    E::PrefixTooLong {
                        prefix: 129,
                        max: 128,
                    },
                ),
            ),
            (
                "10.0.0.0/99999999999",
                (
                    1,
                    1,
                    E::PrefixTooLong {
                        prefix: u32::MAX,
                        max: 32,
                    },
                ),
            ),
            ("192.0.2.0/", (1, 1, E::BadPrefix { prefix: "".into() })),
            (
                "192.0.2.0/2a",
                (
                    1,
                    1,
                    E::BadPrefix {
                        prefix: "2a".into(),
                    },
                ),
            ),
            (
                "192.0.2.0/24/8",
                (
                    1,
                    1,
                    E::BadPrefix {
                        prefix: "24/8".into(),
                    },
                ),
            ),
            (
                "2001:db8:::1",
                (
                    1,
                    1,
                    E::Ipv6Syntax {
                        detail: "empty group (a single `:` at an end, or `:::`)",
                    },
                ),
            ),
            (
                "fe80::1%eth0",
                (
                    1,
                    1,
                    E::ZoneIdNotAllowed {
                        zone: "eth0".into(),
                    },
                ),
            ),
            (
                "fe80::%25en0/64",
                (
                    1,
                    1,
                    E::ZoneIdNotAllowed {
                        zone: "25en0".into(),
                    },
                ),
            ),
            (
                "x\n 192.0.2.9-192.0.2.1",
                (
                    2,
                    2,
                    E::RangeReversed {
                        start: "192.0.2.9".parse().unwrap(),
                        end: "192.0.2.1".parse().unwrap(),
                    },
                ),
            ),
            (
                "2001:db8::9 - 2001:db8::1",
                (
                    1,
                    1,
                    E::RangeReversed {
                        start: "2001:db8::9".parse().unwrap(),
                        end: "2001:db8::1".parse().unwrap(),
                    },
                ),
            ),
            ("192.0.2.1-2001:db8::1", (1, 1, E::RangeMixedFamilies)),
            (
                "1.2.3.4-1.2.3.5-1.2.3.6",
                (
                    1,
                    1,
                    E::BadRange {
                        detail: "more than one `-`",
                    },
                ),
            ),
            (
                "10.0.0.0/24-10.0.1.0",
                (
                    1,
                    1,
                    E::BadRange {
                        detail: "its ends must be addresses, not networks",
                    },
                ),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&last_error(text), expected, "{text:?}");
        }
        let long = "1".repeat(MAX_ENTRY_LEN + 1);
        assert_eq!(only_error(&long), (1, 1, E::TooLong { max: MAX_ENTRY_LEN }));
    }

    /// Like [`only_error`], allowing throw-away `x` entries placed before the
    /// real one to move it.
    fn last_error(text: &str) -> (usize, usize, WhitelistErrorKind) {
        let report = parse_whitelist(text);
        let (last, before) = report.errors.split_last().unwrap();
        assert!(
            before.iter().all(|e| e.text == "x"),
            "{text:?}: {:?}",
            report.errors
        );
        (last.line, last.column, last.kind.clone())
    }

    #[test]
    fn error_messages_read_well() {
        let report = parse_whitelist("\n  192.0.2.0/33");
        assert_eq!(
            report.errors[0].to_string(),
            "line 2, column 3: `192.0.2.0/33` — prefix length 33 is above 32"
        );
        let report = parse_whitelist("01.2.3.4");
        assert_eq!(
            report.errors[0].to_string(),
            "line 1, column 1: `01.2.3.4` — leading zero in `01` (some software reads it as octal)"
        );
    }

    #[test]
    fn ipv6_syntax_errors() {
        for (text, detail) in [
            ("1::2::3", "`::` may appear only once"),
            ("1:2:3:4:5:6:7", "fewer than 8 groups and no `::`"),
            ("1:2:3:4:5:6:7:8:9", "more than 8 groups"),
            ("1:2:3:4::5:6:7:8", "`::` must stand for at least one group"),
            ("12345::1", "a group has more than 4 hex digits"),
            (
                "2001:db8::g",
                "only hex digits, `:` and a final dotted IPv4 part are allowed",
            ),
            (
                ":1:2:3:4:5:6:7",
                "empty group (a single `:` at an end, or `:::`)",
            ),
            ("1.2.3.4::", "the IPv4 part must come last"),
            ("::1.2.3.4:1", "the IPv4 part must come last"),
            ("1:2:3:4:5:6:7:1.2.3.4", "more than 8 groups"),
        ] {
            assert_eq!(only_error(text).2, E::Ipv6Syntax { detail }, "{text:?}");
        }
        assert_eq!(
            only_error("::ffff:01.2.3.4").2,
            E::LeadingZero { part: "01".into() }
        );
        assert_eq!(only_error("::ffff:1.2.3").2, E::OctetCount { found: 3 });
    }

    #[test]
    fn ipv6_text_forms() {
        for (text, expected) in [
            (
                "2001:0db8:0000:0000:0000:ff00:0042:8329",
                "2001:db8::ff00:42:8329/128",
            ),
            ("2001:DB8::FF00:42:8329", "2001:db8::ff00:42:8329/128"),
            ("::", "::/128"),
            ("::1", "::1/128"),
            ("1::", "1::/128"),
            ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128"),
            ("1::8", "1::8/128"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1/128"),
            ("::192.0.2.1", "::c000:201/128"),
            ("1:2:3:4:5:6:192.0.2.1", "1:2:3:4:5:6:c000:201/128"),
            ("64:ff9b::192.0.2.1/120", "64:ff9b::c000:200/120"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("::/0", "::/0"),
        ] {
            let report = parse_whitelist(text);
            assert!(report.errors.is_empty(), "{text}: {:?}", report.errors);
            assert_eq!(nets(&report), [expected], "{text}");
        }
    }

    #[test]
    fn ranges_become_minimal_cidrs() {
        for (text, expected) in [
            ("192.0.2.0-192.0.2.255", &["192.0.2.0/24"][..]),
            (
                "10.0.0.1-10.0.0.6",
                &["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"],
            ),
            ("10.0.0.1 - 10.0.0.1", &["10.0.0.1/32"]),
            ("10.0.0.0 -10.0.1.255", &["10.0.0.0/23"]),
            ("10.0.0.255- 10.0.1.0", &["10.0.0.255/32", "10.0.1.0/32"]),
            ("0.0.0.0-255.255.255.255", &["0.0.0.0/0"]),
            ("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &["::/0"]),
            (
                "2001:db8::1-2001:db8::6",
                &[
                    "2001:db8::1/128",
                    "2001:db8::2/127",
                    "2001:db8::4/127",
                    "2001:db8::6/128",
                ],
            ),
        ] {
            let report = parse_whitelist(text);
            assert!(report.errors.is_empty(), "{text}: {:?}", report.errors);
            assert_eq!(report.entries.len(), 1, "{text}");
            assert_eq!(report.entries[0].text, text);
            assert_eq!(nets(&report), expected, "{text}");
        }
        // The worst case is 2 × bits - 2 blocks.
        let report = parse_whitelist("0.0.0.1-255.255.255.254");
        assert_eq!(report.entries[0].networks.len(), 62);
        let report = parse_whitelist("::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
        assert_eq!(report.entries[0].networks.len(), 254);
    }

    #[test]
    fn a_dash_across_a_line_break_does_not_join() {
        let report = parse_whitelist("192.0.2.1 -\n192.0.2.9");
        assert_eq!(report.errors[0].kind, E::Empty);
        assert_eq!(report.errors[0].text, "192.0.2.1 -");
        assert_eq!(nets(&report), ["192.0.2.9/32"]);
    }

    #[test]
    fn every_warning_kind_with_its_position() {
        let cases: &[(&str, Vec<Warned>)] = &[
            (
                "8.8.8.8\n 192.0.2.1/24",
                vec![
                    (
                        2,
                        2,
                        W::HostBitsSet {
                            normalized: net("192.0.2.0/24"),
                        },
                    ),
                    (
                        2,
                        2,
                        W::Documentation {
                            block: net("192.0.2.0/24"),
                        },
                    ),
                ],
            ),
            (
                "8.8.8.8, 8.8.8.8",
                vec![(1, 10, W::Duplicate { line: 1, column: 1 })],
            ),
            (
                "8.8.8.8\n::ffff:8.8.8.8",
                vec![
                    (
                        2,
                        1,
                        W::Ipv4Mapped {
                            ipv4: "8.8.8.8/32".parse().unwrap(),
                        },
                    ),
                    (2, 1, W::Duplicate { line: 1, column: 1 }),
                ],
            ),
            (
                "8.8.8.8 8.8.0.0/16",
                vec![(
                    1,
                    1,
                    W::ContainedIn {
                        other: net("8.8.0.0/16"),
                        line: 1,
                        column: 9,
                    },
                )],
            ),
            (
                "8.8.8.0/24\n8.8.8.1-8.8.8.6",
                vec![(
                    2,
                    1,
                    W::ContainedIn {
                        other: net("8.8.8.0/24"),
                        line: 1,
                        column: 1,
                    },
                )],
            ),
            ("0.0.0.0/0", vec![(1, 1, W::WholeInternet)]),
            ("::/0", vec![(1, 1, W::WholeInternet)]),
            (
                "10.1.2.3",
                vec![(
                    1,
                    1,
                    W::PrivateRange {
                        block: net("10.0.0.0/8"),
                    },
                )],
            ),
            (
                "172.31.0.0/16",
                vec![(
                    1,
                    1,
                    W::PrivateRange {
                        block: net("172.16.0.0/12"),
                    },
                )],
            ),
            (
                "192.168.1.0/24",
                vec![(
                    1,
                    1,
                    W::PrivateRange {
                        block: net("192.168.0.0/16"),
                    },
                )],
            ),
            (
                "fd00::/8",
                vec![(
                    1,
                    1,
                    W::PrivateRange {
                        block: net("fc00::/7"),
                    },
                )],
            ),
            (
                "127.0.0.1",
                vec![(
                    1,
                    1,
                    W::Loopback {
                        block: net("127.0.0.0/8"),
                    },
                )],
            ),
            (
                "::1",
                vec![(
                    1,
                    1,
                    W::Loopback {
                        block: net("::1/128"),
                    },
                )],
            ),
            (
                "198.51.100.7",
                vec![(
                    1,
                    1,
                    W::Documentation {
                        block: net("198.51.100.0/24"),
                    },
                )],
            ),
            (
                "203.0.113.0/25",
                vec![(
                    1,
                    1,
                    W::Documentation {
                        block: net("203.0.113.0/24"),
                    },
                )],
            ),
            (
                "2001:db8::/48",
                vec![(
                    1,
                    1,
                    W::Documentation {
                        block: net("2001:db8::/32"),
                    },
                )],
            ),
            (
                "3fff::1",
                vec![(
                    1,
                    1,
                    W::Documentation {
                        block: net("3fff::/20"),
                    },
                )],
            ),
            (
                "169.254.1.1",
                vec![(
                    1,
                    1,
                    W::LinkLocal {
                        block: net("169.254.0.0/16"),
                    },
                )],
            ),
            (
                "fe80::1",
                vec![(
                    1,
                    1,
                    W::LinkLocal {
                        block: net("fe80::/10"),
                    },
                )],
            ),
            (
                "100.64.0.1",
                vec![(
                    1,
                    1,
                    W::SharedAddressSpace {
                        block: net("100.64.0.0/10"),
                    },
                )],
            ),
            (
                "239.1.1.1",
                vec![(
                    1,
                    1,
                    W::Multicast {
                        block: net("224.0.0.0/4"),
                    },
                )],
            ),
            (
                "ff02::1",
                vec![(
                    1,
                    1,
                    W::Multicast {
                        block: net("ff00::/8"),
                    },
                )],
            ),
            (
                "255.255.255.255",
                vec![(
                    1,
                    1,
                    W::Reserved {
                        block: net("240.0.0.0/4"),
                    },
                )],
            ),
            (
                "0.0.0.0",
                vec![(
                    1,
                    1,
                    W::Unspecified {
                        block: net("0.0.0.0/8"),
                    },
                )],
            ),
            (
                "::",
                vec![(
                    1,
                    1,
                    W::Unspecified {
                        block: net("::/128"),
                    },
                )],
            ),
            ("8.8.8.8 2001:4860::/32 1.1.1.1-1.1.1.9", vec![]),
        ];
        for (text, expected) in cases {
            assert_eq!(&warnings(text), expected, "{text:?}");
        }
    }

    #[test]
    fn redundancy_needs_every_network_covered() {
        // Half of the range is outside the /31: no warning.
        assert_eq!(warnings("8.8.8.0/31 8.8.8.1-8.8.8.4"), []);
        // The same range twice is a duplicate; a range inside another entry's
        // network and another's is contained.
        assert_eq!(
            warnings("8.8.8.1-8.8.8.6 8.8.8.1-8.8.8.6"),
            [(1, 17, W::Duplicate { line: 1, column: 1 })]
        );
        assert_eq!(
            warnings("8.8.8.0/30 8.8.8.4/30 8.8.8.1-8.8.8.6"),
            [(
                1,
                23,
                W::ContainedIn {
                    other: net("8.8.8.0/30"),
                    line: 1,
                    column: 1
                }
            )]
        );
        // Repeating networks of two different entries is not one duplicate.
        assert_eq!(
            warnings("8.8.8.2/31 8.8.8.4/31 8.8.8.2-8.8.8.5"),
            [(
                1,
                23,
                W::ContainedIn {
                    other: net("8.8.8.2/31"),
                    line: 1,
                    column: 1
                }
            )]
        );
        // The wider, later entry covers the duplicate pair.
        assert_eq!(
            warnings("8.8.8.8 8.8.8.8 8.0.0.0/8"),
            [
                (
                    1,
                    1,
                    W::ContainedIn {
                        other: net("8.0.0.0/8"),
                        line: 1,
                        column: 17
                    }
                ),
                (1, 9, W::Duplicate { line: 1, column: 1 }),
            ]
        );
    }

    #[test]
    fn warning_messages_read_well() {
        let report = parse_whitelist("192.0.2.1/24");
        assert_eq!(
            report.warnings[0].to_string(),
            "line 1, column 1: `192.0.2.1/24` — host bits are set; using 192.0.2.0/24"
        );
    }

    #[test]
    fn lines_api_numbers_lines_by_index() {
        let report = parse_whitelist_lines(&[
            "192.0.2.1".to_string(),
            "# comment only".to_string(),
            "8.8.8.8, 01.1.1.1".to_string(),
            "a\nb".to_string(),
        ]);
        assert_eq!(nets(&report), ["192.0.2.1/32", "8.8.8.8/32"]);
        let errors: Vec<_> = report
            .errors
            .iter()
            .map(|e| (e.line, e.column, e.span.clone()))
            .collect();
        assert_eq!(errors, [(3, 10, 9..17), (4, 1, 0..1), (4, 3, 2..3)]);
    }

    #[test]
    fn strict_rejects_on_any_error() {
        let rejected = parse_whitelist_strict("192.0.2.1\n192.0.2.300").unwrap_err();
        assert_eq!(rejected.report.entries.len(), 1);
        assert_eq!(
            rejected.to_string(),
            "whitelist rejected: 1 error(s), first: line 2, column 1: `192.0.2.300` — \
             octet `300` is not a number from 0 to 255"
        );
        let list = parse_whitelist_strict("10.0.0.1-10.0.0.6, 192.0.2.1/24").unwrap();
        assert_eq!(list.entries().len(), 2);
        assert_eq!(list.warnings().len(), 3);
        assert_eq!(
            list.to_string(),
            "10.0.0.1/32\n10.0.0.2/31\n10.0.0.4/31\n10.0.0.6/32\n192.0.2.0/24\n"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn report_serializes_to_json() {
        let report = parse_whitelist("192.0.2.1/24\nfoo");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["entries"][0],
            serde_json::json!({
                "networks": ["192.0.2.0/24"], "text": "192.0.2.1/24",
                "line": 1, "column": 1, "span": {"start": 0, "end": 12}
            })
        );
        assert_eq!(
            json["errors"][0]["kind"],
            serde_json::json!({"code": "unknown_token"})
        );
        assert_eq!(
            json["warnings"][0]["kind"],
            serde_json::json!({"code": "host_bits_set", "normalized": "192.0.2.0/24"})
        );
    }

    #[test]
    fn hostile_input_is_bounded() {
        // 10 MB of garbage: errors stop being stored, the text is cut.
        let garbage = "zz!? ".repeat(2_000_000);
        let report = parse_whitelist(&garbage);
        assert_eq!(report.errors.len(), MAX_DIAGNOSTICS);
        assert_eq!(report.errors_omitted, 2_000_000 - MAX_DIAGNOSTICS);
        // One 10 MB token.
        let report = parse_whitelist(&"9".repeat(10_000_000));
        assert_eq!(report.errors[0].kind, E::TooLong { max: MAX_ENTRY_LEN });
        assert_eq!(report.errors[0].text.chars().count(), MAX_QUOTED_CHARS + 1);
        // Ranges that expand to 254 networks each: parsing stops at the limit.
        let range = "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe\n";
        let report = parse_whitelist(&range.repeat(1_000));
        assert_eq!(report.networks().count(), (MAX_NETWORKS / 254) * 254);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(
            report.errors[0].kind,
            E::TooManyNetworks { max: MAX_NETWORKS }
        );
        assert_eq!(report.errors[0].line, MAX_NETWORKS / 254 + 1);
        // Many blanks around dashes stay linear and become one entry.
        let spaced = format!(
            "1.1.1.1{}-{}1.1.1.2",
            " ".repeat(100_000),
            " ".repeat(100_000)
        );
        assert_eq!(only_error(&spaced).2, E::TooLong { max: MAX_ENTRY_LEN });
        // Warnings are capped too.
        let report = parse_whitelist(&"10.0.0.1\n".repeat(5_000));
        assert_eq!(report.warnings.len(), MAX_DIAGNOSTICS);
        assert_eq!(report.warnings_omitted, 5_000 * 2 - 1 - MAX_DIAGNOSTICS);
    }

    /// Text that is close to addresses, to reach the parser's corners.
    fn addressish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("0"),
                Just("1"),
                Just("00"),
                Just("255"),
                Just("256"),
                Just("ffff"),
                Just("abcde"),
                Just("."),
                Just(":"),
                Just("::"),
                Just("1.2.3.4"),
                Just("/"),
                Just("-"),
                Just(" "),
                Just("%"),
                Just("9"),
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn ipv4_agrees_with_std(text in addressish()) {
            if !text.contains(':') && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                prop_assert_eq!(ip4_address(text.as_bytes()).ok(), text.parse::<Ipv4Addr>().ok());
            }
        }

        #[test]
        fn ipv6_agrees_with_std(text in addressish()) {
            if text.contains(':') && !text.contains([' ', '/', '-', '%']) {
                prop_assert_eq!(ip6_address(text.as_bytes()).ok(), text.parse::<Ipv6Addr>().ok());
            }
        }

        #[test]
        fn any_text_parses_without_panicking(text in "\\PC{0,200}") {
            let report = parse_whitelist(&text);
            for e in &report.entries {
                prop_assert_eq!(text.get(e.span.clone()), Some(e.text.as_str()));
            }
        }

        #[test]
        fn canonical_text_parses_to_itself(text in addressish()) {
            for n in parse_whitelist(&text).networks() {
                let again = parse_whitelist(&n.to_string());
                prop_assert!(again.errors.is_empty());
                prop_assert_eq!(again.networks().collect::<Vec<_>>(), vec![n]);
            }
        }

        #[test]
        fn every_network_text_parses_to_itself(bits in any::<u128>(), prefix in 0u8..=128, v4 in any::<bool>()) {
            let n = if v4 {
                IpNet::V4(Ipv4Net::new(Ipv4Addr::from(bits as u32), prefix % 33).unwrap().trunc())
            } else {
                IpNet::V6(Ipv6Net::new(Ipv6Addr::from(bits), prefix).unwrap().trunc())
            };
            let report = parse_whitelist(&n.to_string());
            prop_assert!(report.errors.is_empty(), "{}: {:?}", n, report.errors);
            prop_assert_eq!(report.networks().collect::<Vec<_>>(), vec![n]);
        }

        #[test]
        fn range_cover_is_exact_and_minimal(a in any::<u32>(), b in any::<u32>()) {
            let (start, end) = (a.min(b), a.max(b));
            let blocks: Vec<_> = cidr_cover(u128::from(start), u128::from(end), 32).collect();
            prop_assert!(blocks.len() <= 2 * 32 - 2);
            let mut next = u128::from(start);
            for (i, &(addr, prefix)) in blocks.iter().enumerate() {
                prop_assert_eq!(addr, next, "blocks are contiguous");
                let size = 1u128 << (32 - prefix);
                prop_assert_eq!(addr % size, 0, "blocks are aligned");
                next = addr + size;
                // Minimal: no two neighbours of one size form an aligned pair.
                if let Some(&(addr2, prefix2)) = blocks.get(i + 1) {
                    prop_assert!(!(prefix == prefix2 && prefix > 0 && addr % (size * 2) == 0 && addr2 == addr + size));
                }
            }
            prop_assert_eq!(next, u128::from(end) + 1);
        }
    }
}
