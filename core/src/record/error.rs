//! Parse errors that point at the offending byte.

use std::fmt;

/// What was wrong with a record, without position information.
///
/// Serialized as an object tagged by `code` (the variant in snake_case) with the
/// variant's fields: `{"code": "cidr_too_long", "length": 33, "max": 32}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "code", rename_all = "snake_case")
)]
#[non_exhaustive] // new checks may add kinds; match with a wildcard arm.
pub enum ParseErrorKind {
    /// The text does not start with `v=spf1` followed by a space or the end.
    NotSpf,
    /// A byte outside printable ASCII (RFC 7208 records are ASCII only).
    NonAscii {
        /// The byte found.
        byte: u8,
    },
    /// A control character such as TAB, CR or LF.
    ControlCharacter {
        /// The byte found.
        byte: u8,
    },
    /// A term name that is neither a mechanism nor `name=` modifier syntax.
    UnknownMechanism {
        /// The name as written (at most 64 characters).
        name: String,
    },
    /// A qualifier with nothing after it (`-`).
    MissingMechanism,
    /// A mechanism carries something it does not take (`all:x`, `ptr/24`, `include/24`).
    UnexpectedArgument,
    /// A mechanism or modifier that needs a domain has none (`include:`).
    MissingDomain,
    /// The domain does not end in `.toplabel` or a macro (`include:example`).
    InvalidDomainEnd,
    /// A `%` that does not start `%{...}`, `%%`, `%_` or `%-`.
    InvalidMacro,
    /// A macro letter outside `s l o d i p h v c r t`.
    InvalidMacroLetter {
        /// The letter found.
        letter: char,
    },
    /// `%{c}`, `%{r}` or `%{t}` outside explanation text.
    MacroLetterOnlyInExp {
        /// The letter found.
        letter: char,
    },
    /// The transformer digit count is zero (`%{d0}`).
    ZeroMacroDigits,
    /// A CIDR length above the family's maximum.
    CidrTooLong {
        /// The length written.
        length: u32,
        /// 32 or 128.
        max: u8,
    },
    /// A CIDR length that is empty, not decimal, or has a leading zero.
    InvalidCidr,
    /// An `ip4:` address that is not a dotted quad of 0–255 without leading zeros.
    InvalidIp4,
    /// An `ip6:` address that is not an RFC 4291 text form.
    InvalidIp6,
    /// A second `redirect=` or `exp=` modifier.
    DuplicateModifier {
        /// `redirect` or `exp`.
        name: &'static str,
    },
    /// A modifier value that is not a valid macro-string.
    InvalidModifierValue,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSpf => f.write_str("not an SPF record: expected `v=spf1` followed by a space"),
            Self::NonAscii { byte } => {
                write!(f, "non-ASCII byte 0x{byte:02x}; SPF records are ASCII only")
            }
            Self::ControlCharacter { byte: b'\t' } => {
                f.write_str("TAB is not allowed; separate terms with spaces")
            }
            Self::ControlCharacter { byte } => write!(f, "control character 0x{byte:02x}"),
            Self::UnknownMechanism { name } => write!(
                f,
                "unknown mechanism `{name}`; expected all, include, a, mx, ptr, ip4, ip6, exists or name=value"
            ),
            Self::MissingMechanism => f.write_str("a qualifier must be followed by a mechanism"),
            Self::UnexpectedArgument => f.write_str("this mechanism does not take that argument"),
            Self::MissingDomain => f.write_str("a domain is required here"),
            Self::InvalidDomainEnd => f.write_str(
                "the domain must end in a top-level label with a letter (like `.com`) or in a macro",
            ),
            Self::InvalidMacro => f.write_str("`%` must start `%{letter}`, `%%`, `%_` or `%-`"),
            Self::InvalidMacroLetter { letter } => write!(
                f,
                "unknown macro letter `{letter}`; expected one of s l o d i p h v (c r t in exp text)"
            ),
            Self::MacroLetterOnlyInExp { letter } => {
                write!(f, "macro letter `{letter}` is allowed only in explanation text")
            }
            Self::ZeroMacroDigits => f.write_str("a macro's digit count must not be zero"),
            Self::CidrTooLong { length, max } => {
                write!(f, "CIDR length {length} is above {max}")
            }
            Self::InvalidCidr => {
                f.write_str("expected a CIDR length: decimal digits without a leading zero")
            }
            Self::InvalidIp4 => f.write_str(
                "expected an IPv4 address: four numbers 0–255 without leading zeros, like 192.0.2.1",
            ),
            Self::InvalidIp6 => f.write_str("expected an IPv6 address, like 2001:db8::1"),
            Self::DuplicateModifier { name } => {
                write!(f, "`{name}=` may appear only once")
            }
            Self::InvalidModifierValue => f.write_str("invalid modifier value"),
        }
    }
}

/// The first 64 characters of `text`: errors end up in SMTP replies and logs, so quoted
/// input stays short however long the record is.
pub(crate) fn excerpt(text: &str) -> String {
    // At most 64 bytes are at most 64 characters: copied whole, not char by char.
    let end = match text.len() {
        0..=64 => text.len(),
        _ => text.char_indices().nth(64).map_or(text.len(), |(i, _)| i),
    };
    text[..end].to_owned()
}

/// A record that failed to parse: what, where, and the term it was in.
///
/// `Display` reads like `ip4:192.0.2.0/33 — CIDR length 33 is above 32 (byte 21)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
    len: usize,
    term: String,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, offset: usize, len: usize, term: &str) -> Self {
        Self {
            kind,
            offset,
            len,
            term: excerpt(term),
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// Byte offset of the problem in the parsed text (0-based).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Length in bytes of the offending text (at least 1 unless the input ended early).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the error points at the end of the input rather than at bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The term the error is in (escaped, at most 64 characters), empty for record-level errors.
    pub fn term(&self) -> &str {
        &self.term
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.term.is_empty() {
            write!(f, "{} — ", self.term.escape_default())?;
        }
        write!(f, "{} (byte {})", self.kind, self.offset)
    }
}

/// A grammar failure inside the parsers: what, and the text it points at, a sub-slice
/// of the parsed text, so its offset is known. Small and `Copy`, so the nom parsers
/// move it cheaply; the public [`ParseError`] is built from it once, at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault<'a> {
    pub(crate) kind: FaultKind,
    pub(crate) at: &'a [u8],
}

/// [`ParseErrorKind`] without its owned data (an unknown mechanism's name is the text
/// the fault points at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// No rule matched here: alternatives backtrack on it.
    Syntax,
    MissingMechanism,
    UnknownMechanism,
    UnexpectedArgument,
    MissingDomain,
    InvalidDomainEnd,
    InvalidMacro,
    InvalidMacroLetter(u8),
    MacroLetterOnlyInExp(u8),
    ZeroMacroDigits,
    CidrTooLong {
        length: u32,
        max: u8,
    },
    InvalidCidr,
    InvalidIp4,
    InvalidIp6,
    DuplicateModifier(&'static str),
    /// A byte outside printable ASCII.
    Character(u8),
}

impl<'a> Fault<'a> {
    pub(crate) fn new(kind: FaultKind, at: &'a [u8]) -> Self {
        Fault { kind, at }
    }

    /// The public kind.
    pub(crate) fn kind(&self) -> ParseErrorKind {
        match self.kind {
            // Nothing reaches the top as `Syntax`: every rule that can be the last to
            // fail says why. Should one, the term is at least pointed at.
            FaultKind::Syntax | FaultKind::UnexpectedArgument => ParseErrorKind::UnexpectedArgument,
            FaultKind::MissingMechanism => ParseErrorKind::MissingMechanism,
            FaultKind::UnknownMechanism => ParseErrorKind::UnknownMechanism {
                name: excerpt(&String::from_utf8_lossy(self.at)),
            },
            FaultKind::MissingDomain => ParseErrorKind::MissingDomain,
            FaultKind::InvalidDomainEnd => ParseErrorKind::InvalidDomainEnd,
            FaultKind::InvalidMacro => ParseErrorKind::InvalidMacro,
            FaultKind::InvalidMacroLetter(c) => ParseErrorKind::InvalidMacroLetter {
                letter: char::from(c),
            },
            FaultKind::MacroLetterOnlyInExp(c) => ParseErrorKind::MacroLetterOnlyInExp {
                letter: char::from(c),
            },
            FaultKind::ZeroMacroDigits => ParseErrorKind::ZeroMacroDigits,
            FaultKind::CidrTooLong { length, max } => ParseErrorKind::CidrTooLong { length, max },
            FaultKind::InvalidCidr => ParseErrorKind::InvalidCidr,
            FaultKind::InvalidIp4 => ParseErrorKind::InvalidIp4,
            FaultKind::InvalidIp6 => ParseErrorKind::InvalidIp6,
            FaultKind::DuplicateModifier(name) => ParseErrorKind::DuplicateModifier { name },
            FaultKind::Character(byte) if byte.is_ascii() => {
                ParseErrorKind::ControlCharacter { byte }
            }
            FaultKind::Character(byte) => ParseErrorKind::NonAscii { byte },
        }
    }
}

impl<'a> nom::error::ParseError<&'a [u8]> for Fault<'a> {
    fn from_error_kind(at: &'a [u8], _: nom::error::ErrorKind) -> Self {
        Fault::new(FaultKind::Syntax, at)
    }

    fn append(_: &'a [u8], _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// A grammar parser's result.
pub(crate) type PResult<'a, T> = nom::IResult<&'a [u8], T, Fault<'a>>;

/// Fails with `kind` at `at`, a fault alternatives may still backtrack from.
#[cold]
pub(crate) fn fail<T>(kind: FaultKind, at: &[u8]) -> PResult<'_, T> {
    Err(nom::Err::Error(Fault::new(kind, at)))
}

/// Fails with `kind` at `at` for good: the rule matched far enough to be sure.
#[cold]
pub(crate) fn fail_for_good<T>(kind: FaultKind, at: &[u8]) -> PResult<'_, T> {
    Err(nom::Err::Failure(Fault::new(kind, at)))
}

/// The fault of a failed parse (a complete parser is never `Incomplete`; should it be,
/// the input is pointed at).
pub(crate) fn fault_of<'a>(e: nom::Err<Fault<'a>>, input: &'a [u8]) -> Fault<'a> {
    match e {
        nom::Err::Error(f) | nom::Err::Failure(f) => f,
        nom::Err::Incomplete(_) => Fault::new(FaultKind::Syntax, input),
    }
}
