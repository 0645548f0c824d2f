//! Macro-strings (RFC 7208 §7): their grammar, and expansion against a request.
//!
//! The grammar is the `macro-string` part of RFC 7208 §12 as nom parsers, one per rule
//! and named after it (`macro_string`, `macro_expand`, `macro_letter`,
//! `transformers`...). A [`MacroString`] is validated once, when a record is parsed,
//! and then walked as [`Piece`]s without allocating. [`expand`] turns it into text for
//! a DNS name or an explanation.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

use nom::Parser;
use nom::bytes::complete::{tag_no_case, take_while};
use nom::character::complete::digit0;
use nom::combinator::{cut, opt};

use super::ParseErrorKind;
use super::error::{FaultKind, PResult, fail, fault_of};

/// A validated macro-string, borrowed from the record text or owned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MacroString<'a>(Cow<'a, str>);

impl<'a> MacroString<'a> {
    /// Validates `text` as a macro-string. `in_exp_text` allows the `c`, `r` and `t`
    /// letters and spaces, which RFC 7208 permits only in explanation text.
    ///
    /// ```
    /// use spfgate::macros::MacroString;
    /// assert!(MacroString::parse("%{ir}.%{v}._spf.%{d}", false).is_ok());
    /// assert!(MacroString::parse("%{c}.example", false).is_err());
    /// ```
    pub fn parse(text: &'a str, in_exp_text: bool) -> Result<Self, (ParseErrorKind, usize, usize)> {
        let source = if in_exp_text {
            Source::Explanation
        } else {
            Source::Record
        };
        let input = text.as_bytes();
        match macro_string(input, source) {
            Ok(_) => Ok(MacroString(Cow::Borrowed(text))),
            Err(e) => {
                let fault = fault_of(e, input);
                let at = fault.at.as_ptr() as usize - input.as_ptr() as usize;
                Err((fault.kind(), at, fault.at.len()))
            }
        }
    }

    /// Text known to be a valid macro-string without walking it again: a domain-spec
    /// copied out of a parsed record, or record text the grammar just checked.
    pub(crate) fn from_validated(text: &'a str) -> Self {
        MacroString(Cow::Borrowed(text))
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Walks the literal text and macros.
    pub fn pieces(&self) -> Pieces<'_> {
        Pieces { rest: &self.0 }
    }

    /// True when the string contains no macro at all (its expansion is itself).
    pub fn is_literal(&self) -> bool {
        !self.0.contains('%')
    }

    /// True when any macro uses `letter` (case-insensitive).
    pub fn uses(&self, letter: MacroLetter) -> bool {
        self.pieces()
            .any(|p| matches!(p, Piece::Macro(m) if m.letter == letter))
    }

    /// Detaches from the record text.
    pub fn into_owned(self) -> MacroString<'static> {
        MacroString(Cow::Owned(self.0.into_owned()))
    }
}

impl fmt::Display for MacroString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The macro letters of RFC 7208 §7.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive] // a future SPF revision could add letters.
pub enum MacroLetter {
    /// `s`: the sender, `local-part@domain`.
    Sender,
    /// `l`: the sender's local-part.
    LocalPart,
    /// `o`: the sender's domain.
    SenderDomain,
    /// `d`: the domain being checked.
    Domain,
    /// `i`: the client IP (dotted quad, or dotted nibbles for IPv6).
    Ip,
    /// `p`: the validated reverse-DNS name of the client, or `unknown`.
    ValidatedName,
    /// `v`: `in-addr` for IPv4, `ip6` for IPv6.
    IpVersion,
    /// `h`: the HELO/EHLO name.
    Helo,
    /// `c`: the client IP in readable form (explanation text only).
    ClientIp,
    /// `r`: the receiving host's name (explanation text only).
    Receiver,
    /// `t`: the current time in seconds since the epoch (explanation text only).
    Timestamp,
}

impl MacroLetter {
    fn from_ascii(c: u8) -> Option<(Self, bool)> {
        let letter = match c.to_ascii_lowercase() {
            b's' => Self::Sender,
            b'l' => Self::LocalPart,
            b'o' => Self::SenderDomain,
            b'd' => Self::Domain,
            b'i' => Self::Ip,
            b'p' => Self::ValidatedName,
            b'v' => Self::IpVersion,
            b'h' => Self::Helo,
            b'c' => Self::ClientIp,
            b'r' => Self::Receiver,
            b't' => Self::Timestamp,
            _ => return None,
        };
        Some((letter, c.is_ascii_uppercase()))
    }

    fn exp_only(self) -> bool {
        matches!(self, Self::ClientIp | Self::Receiver | Self::Timestamp)
    }
}

/// One `%{...}` expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Macro<'a> {
    /// Which value.
    pub letter: MacroLetter,
    /// Upper-case letter: URL-escape the result.
    pub url_escape: bool,
    /// Keep only this many right-hand parts.
    pub digits: Option<u32>,
    /// Reverse the parts first.
    pub reverse: bool,
    /// Characters that split the value into parts (`.` when empty).
    pub delimiters: &'a str,
}

/// A piece of a macro-string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text copied as is.
    Literal(&'a str),
    /// `%%`, `%_` or `%-`, with the text each stands for (`%`, space, `%20`).
    Escape(&'static str),
    /// A `%{...}` macro.
    Macro(Macro<'a>),
}

/// Iterator over the [`Piece`]s of a validated macro-string.
#[derive(Debug, Clone)]
pub struct Pieces<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        if bytes[0] != b'%' {
            // A byte loop: pieces are short, where `str::find` costs more to set up.
            let end = bytes.iter().position(|&b| b == b'%').unwrap_or(rest.len());
            self.rest = &rest[end..];
            return Some(Piece::Literal(&rest[..end]));
        }
        // Validated input: `%` is followed by `%`, `_`, `-` or `{...}`.
        let escape = match bytes.get(1) {
            Some(b'%') => "%",
            Some(b'_') => " ",
            Some(b'-') => "%20",
            _ => {
                let close = bytes
                    .iter()
                    .position(|&b| b == b'}')
                    .unwrap_or(rest.len() - 1);
                self.rest = &rest[close + 1..];
                return Some(Piece::Macro(parse_macro_body(&rest[2..close])));
            }
        };
        self.rest = &rest[2..];
        Some(Piece::Escape(escape))
    }
}

/// Parses the inside of a validated `%{...}`.
fn parse_macro_body(body: &str) -> Macro<'_> {
    let b = body.as_bytes();
    let (letter, url_escape) =
        MacroLetter::from_ascii(b[0]).unwrap_or((MacroLetter::Domain, false));
    let mut i = 1;
    let mut digits: Option<u32> = None;
    while i < b.len() && b[i].is_ascii_digit() {
        let d = u32::from(b[i] - b'0');
        digits = Some(digits.unwrap_or(0).saturating_mul(10).saturating_add(d));
        i += 1;
    }
    let reverse = i < b.len() && b[i].eq_ignore_ascii_case(&b'r');
    if reverse {
        i += 1;
    }
    Macro {
        letter,
        url_escape,
        digits,
        reverse,
        delimiters: &body[i..],
    }
}

/// Where a macro-string is written: it decides which characters and letters it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A term of a record, whose bytes the record parser has already found printable
    /// ASCII without spaces; `c`, `r` and `t` are refused.
    Term,
    /// Other record text: printable ASCII without spaces; `c`, `r` and `t` refused.
    Record,
    /// Explanation text (RFC 7208 §6.2): spaces, and `c`, `r` and `t` too.
    Explanation,
}

/// `macro-string = *( macro-expand / macro-literal )`, over all of `input`. Returns the
/// literal text after the last `macro-expand` (all of `input` when it holds none, empty
/// when it ends in one), where a domain-spec's `domain-end` is checked.
pub(crate) fn macro_string(input: &[u8], source: Source) -> PResult<'_, &[u8]> {
    let mut tail = input;
    let mut rest = input;
    loop {
        let (after, _) = macro_literals(rest, source)?;
        if after.is_empty() {
            return Ok((after, tail));
        }
        (rest, _) = macro_expand(after, source)?;
        tail = rest;
    }
}

/// `*macro-literal` with `macro-literal = %x21-24 / %x26-7E` (and spaces in explanation
/// text): the run up to the next `%`. Any other byte is an error.
fn macro_literals(input: &[u8], source: Source) -> PResult<'_, &[u8]> {
    let end = match source {
        // The record parser checked the bytes: only the next `%` is looked for.
        Source::Term => memchr::memchr(b'%', input).unwrap_or(input.len()),
        Source::Record | Source::Explanation => {
            let space = source == Source::Explanation;
            let end = input
                .iter()
                .position(|&c| !(is_macro_literal(c) || space && c == b' '))
                .unwrap_or(input.len());
            match input.get(end) {
                None | Some(b'%') => end,
                Some(&c) => return fail(FaultKind::Character(c), &input[end..end + 1]),
            }
        }
    };
    let (literals, rest) = input.split_at(end);
    Ok((rest, literals))
}

/// `macro-literal = %x21-24 / %x26-7E`: visible characters but `%`.
fn is_macro_literal(c: u8) -> bool {
    matches!(c, 0x21..=0x24 | 0x26..=0x7e)
}

/// `macro-expand = ( "%{" macro-letter transformers *delimiter "}" ) / "%%" / "%_" / "%-"`,
/// at a `%`. Once `%{` has matched, the rest must follow.
fn macro_expand(input: &[u8], source: Source) -> PResult<'_, ()> {
    match input {
        [b'%', b'%' | b'_' | b'-', rest @ ..] => Ok((rest, ())),
        [b'%', b'{', rest @ ..] => cut(|i| macro_body(input, i, source)).parse(rest),
        _ => fail(FaultKind::InvalidMacro, &input[..input.len().min(2)]),
    }
}

/// `macro-letter transformers *delimiter "}"`, the inside of the `%{` at `start`.
fn macro_body<'a>(start: &'a [u8], input: &'a [u8], source: Source) -> PResult<'a, ()> {
    let (rest, _) = macro_letter(start, input, source)?;
    let (rest, ()) = transformers(rest)?;
    let (rest, _) = take_while(is_delimiter)(rest)?;
    match rest.split_first() {
        Some((b'}', rest)) => Ok((rest, ())),
        _ => fail(FaultKind::InvalidMacro, &rest[..rest.len().min(1)]),
    }
}

/// `macro-letter = "s" / "l" / "o" / "d" / "i" / "p" / "h" / "c" / "r" / "t" / "v"`, in
/// either case; `c`, `r` and `t` only in explanation text (RFC 7208 §7.1).
fn macro_letter<'a>(start: &'a [u8], input: &'a [u8], source: Source) -> PResult<'a, MacroLetter> {
    let Some(&c) = input.first() else {
        // `%{` and the end: the whole of what is there is the bad macro.
        return fail(FaultKind::InvalidMacro, start);
    };
    let at = &input[..1];
    match MacroLetter::from_ascii(c) {
        None => fail(FaultKind::InvalidMacroLetter(c), at),
        Some((letter, _)) if letter.exp_only() && source != Source::Explanation => {
            fail(FaultKind::MacroLetterOnlyInExp(c), at)
        }
        Some((letter, _)) => Ok((&input[1..], letter)),
    }
}

/// `transformers = *DIGIT [ "r" ]`; the digits may not be zero (RFC 7208 §7.1).
fn transformers(input: &[u8]) -> PResult<'_, ()> {
    let (rest, digits) = digit0(input)?;
    if !digits.is_empty() && digits.iter().all(|&d| d == b'0') {
        return fail(FaultKind::ZeroMacroDigits, digits);
    }
    let (rest, _) = opt(tag_no_case(&b"r"[..])).parse(rest)?;
    Ok((rest, ()))
}

/// `delimiter = "." / "-" / "+" / "," / "/" / "_" / "="`.
fn is_delimiter(c: u8) -> bool {
    matches!(c, b'.' | b'-' | b'+' | b',' | b'/' | b'_' | b'=')
}

/// The values macros expand to, for one check.
#[derive(Debug, Clone, Copy)]
pub struct MacroVars<'a> {
    /// `s`: `local@domain` (for a null sender, `postmaster@helo`).
    pub sender: &'a str,
    /// `l`.
    pub local_part: &'a str,
    /// `o`.
    pub sender_domain: &'a str,
    /// `d`: the domain whose record is being evaluated.
    pub domain: &'a str,
    /// `i`, `c`, `v`.
    pub ip: IpAddr,
    /// `p`: `None` when not yet validated (expanding then yields `unknown`).
    pub validated_name: Option<&'a str>,
    /// `h`.
    pub helo: &'a str,
    /// `r`.
    pub receiver: &'a str,
    /// `t`.
    pub timestamp: u64,
}

/// What the expansion is for: it sets the size rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A DNS name: truncated from the left to 253 octets by whole labels (RFC 7208 §7.3).
    DomainName,
    /// Explanation text: capped at [`MAX_EXPLANATION`] bytes.
    Explanation,
}

/// Longest explanation text produced; it ends up in one SMTP reply line.
pub const MAX_EXPLANATION: usize = 2048;

/// Bound on work space while expanding a domain name; only the last 253 octets survive.
const DOMAIN_WINDOW: usize = 1024;

/// Expands `ms` against `vars`.
///
/// ```
/// use spfgate::macros::{expand, MacroString, MacroVars, Target};
/// let vars = MacroVars {
///     sender: "strong-bad@email.example.com", local_part: "strong-bad",
///     sender_domain: "email.example.com", domain: "email.example.com",
///     ip: "192.0.2.3".parse().unwrap(), validated_name: None,
///     helo: "mx.example.org", receiver: "mx.example.net", timestamp: 0,
/// };
/// let ms = MacroString::parse("%{ir}.%{v}._spf.%{d2}", false).unwrap();
/// assert_eq!(expand(&ms, &vars, Target::DomainName), "3.2.0.192.in-addr._spf.example.com");
/// ```
pub fn expand(ms: &MacroString<'_>, vars: &MacroVars<'_>, target: Target) -> String {
    let mut out = String::with_capacity(ms.as_str().len() + 32);
    expand_into(ms, vars, target, &mut out);
    out
}

/// [`expand`] appending to `out`, whose earlier text is kept: the evaluator expands
/// into a buffer it reuses, so an expansion allocates nothing.
pub(crate) fn expand_into(
    ms: &MacroString<'_>,
    vars: &MacroVars<'_>,
    target: Target,
    out: &mut String,
) {
    let start = out.len();
    for piece in ms.pieces() {
        match piece {
            Piece::Literal(s) => out.push_str(s),
            Piece::Escape(s) => out.push_str(s),
            Piece::Macro(m) => expand_macro(&m, vars, out),
        }
        let len = out.len() - start;
        match target {
            Target::DomainName if len > 2 * DOMAIN_WINDOW => {
                let mut cut = out.len() - DOMAIN_WINDOW;
                while !out.is_char_boundary(cut) {
                    cut += 1;
                }
                out.drain(start..cut);
            }
            Target::Explanation if len > MAX_EXPLANATION => {
                let mut cut = start + MAX_EXPLANATION;
                while !out.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.truncate(cut);
                return;
            }
            _ => {}
        }
    }
    if target == Target::DomainName {
        truncate_domain(out, start);
    }
}

/// Removes whole labels from the left of the name that starts at `start` in `out`
/// until at most 253 octets remain.
fn truncate_domain(out: &mut String, start: usize) {
    let cut = domain_truncation(&out.as_bytes()[start..]);
    out.drain(start..start + cut);
}

/// How many octets to drop from the left of a domain name so that at most 253
/// remain, by whole labels (RFC 7208 §7.3); 0 when it is short enough. The one rule
/// for every domain-spec, expanded from macros or literal (§4.8).
pub(crate) fn domain_truncation(name: &[u8]) -> usize {
    // A trailing dot does not count towards the 253.
    let limit = if name.ends_with(b".") { 254 } else { 253 };
    if name.len() <= limit {
        return 0;
    }
    let excess = name.len() - limit;
    // Bytes, not `str` slicing: `excess` may fall inside a character of a non-ASCII
    // local part; the cut itself is always just after a dot, a character boundary.
    match name[excess..].iter().position(|&b| b == b'.') {
        // The label starting at `excess` may be partial; drop through its dot,
        // unless `excess` itself sits right after a dot (a clean label start).
        Some(_) if name[excess - 1] == b'.' => excess,
        Some(pos) => excess + pos + 1,
        None => name.len(),
    }
}

fn expand_macro(m: &Macro<'_>, vars: &MacroVars<'_>, out: &mut String) {
    let mut scratch = String::new();
    let value: &str = match m.letter {
        MacroLetter::Sender => vars.sender,
        MacroLetter::LocalPart => vars.local_part,
        MacroLetter::SenderDomain => vars.sender_domain,
        MacroLetter::Domain => vars.domain,
        MacroLetter::Helo => vars.helo,
        MacroLetter::Receiver => vars.receiver,
        MacroLetter::ValidatedName => vars.validated_name.unwrap_or("unknown"),
        MacroLetter::IpVersion => match vars.ip {
            IpAddr::V4(_) => "in-addr",
            IpAddr::V6(_) => "ip6",
        },
        MacroLetter::Ip => {
            write_dotted_ip(vars.ip, &mut scratch);
            &scratch
        }
        MacroLetter::ClientIp => {
            let _ = write!(scratch, "{}", vars.ip);
            &scratch
        }
        MacroLetter::Timestamp => {
            let _ = write!(scratch, "{}", vars.timestamp);
            &scratch
        }
    };
    let start = out.len();
    transform(value, m, out);
    if m.url_escape {
        url_escape_from(out, start);
    }
}

/// `i`: IPv4 as a dotted quad, IPv6 as 32 dot-separated nibbles (RFC 7208 §7.3).
///
/// Nibbles are upper-case hex, as the RFC 7208 test suite expects (`v-macro-ip6`) and
/// pyspf writes; DNS compares names case-insensitively, so lookups are unaffected.
pub(crate) fn write_dotted_ip(ip: IpAddr, out: &mut String) {
    // By hand rather than with `write!`: the formatting machinery costs several
    // times more, and `%{i}` and reverse names are on every `ptr` evaluation's path.
    match ip {
        IpAddr::V4(v4) => {
            for (i, &octet) in v4.octets().iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(octet, out);
            }
        }
        IpAddr::V6(v6) => {
            // Built in place and appended once: 63 single-character pushes cost more.
            let mut nibbles = [b'.'; 63];
            for (i, &byte) in v6.octets().iter().enumerate() {
                nibbles[4 * i] = HEX_UPPER[usize::from(byte >> 4)];
                nibbles[4 * i + 2] = HEX_UPPER[usize::from(byte & 0xf)];
            }
            out.push_str(std::str::from_utf8(&nibbles).unwrap_or_default());
        }
    }
}

/// Hexadecimal digits, upper case.
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `n` in decimal.
pub(crate) fn push_decimal(n: u8, out: &mut String) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

/// Splits on the delimiters, optionally reverses, keeps the right-hand `digits` parts,
/// and joins with dots.
fn transform(value: &str, m: &Macro<'_>, out: &mut String) {
    if m.digits.is_none() && !m.reverse && (m.delimiters.is_empty() || m.delimiters == ".") {
        out.push_str(value);
        return;
    }
    let delims = if m.delimiters.is_empty() {
        b"."
    } else {
        m.delimiters.as_bytes()
    };
    // Delimiters are ASCII, so splitting at them keeps characters whole.
    let is_delimiter = |c: char| c.is_ascii() && delims.contains(&(c as u8));
    let count = 1 + value.bytes().filter(|b| delims.contains(b)).count();
    let keep = m.digits.map_or(count, |d| (d as usize).min(count));
    let mut first = true;
    let push = |part: &str| {
        if !first {
            out.push('.');
        }
        first = false;
        out.push_str(part);
    };
    if m.reverse {
        // The reversed parts' right-hand `keep` are the first `keep` parts, last first.
        let end = value
            .split(is_delimiter)
            .nth(keep - 1)
            .map_or(value.len(), |part| {
                part.as_ptr() as usize - value.as_ptr() as usize + part.len()
            });
        value[..end].rsplit(is_delimiter).for_each(push);
    } else {
        value.split(is_delimiter).skip(count - keep).for_each(push);
    }
}

/// URL-escapes, in place, everything from `start` on but RFC 3986 unreserved characters.
fn url_escape_from(out: &mut String, start: usize) {
    let unreserved = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    let Some(first) = out.as_bytes()[start..].iter().position(|b| !unreserved(b)) else {
        return;
    };
    let tail = out.split_off(start + first);
    for b in tail.bytes() {
        if unreserved(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> MacroVars<'static> {
        MacroVars {
            sender: "strong-bad@email.example.com",
            local_part: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: "192.0.2.3".parse().unwrap(),
            validated_name: None,
            helo: "mx.example.org",
            receiver: "mx.example.net",
            timestamp: 1_700_000_000,
        }
    }

    fn exp(text: &str, target: Target) -> String {
        let ms = MacroString::parse(text, target == Target::Explanation).unwrap();
        expand(&ms, &vars(), target)
    }

    #[test]
    fn rfc_7208_section_7_4_examples() {
        let d = Target::DomainName;
        assert_eq!(exp("%{s}", d), "strong-bad@email.example.com");
        assert_eq!(exp("%{o}", d), "email.example.com");
        assert_eq!(exp("%{d}", d), "email.example.com");
        assert_eq!(exp("%{d4}", d), "email.example.com");
        assert_eq!(exp("%{d3}", d), "email.example.com");
        assert_eq!(exp("%{d2}", d), "example.com");
        assert_eq!(exp("%{d1}", d), "com");
        assert_eq!(exp("%{dr}", d), "com.example.email");
        assert_eq!(exp("%{d2r}", d), "example.email");
        assert_eq!(exp("%{l}", d), "strong-bad");
        assert_eq!(exp("%{l-}", d), "strong.bad");
        assert_eq!(exp("%{lr}", d), "strong-bad");
        assert_eq!(exp("%{lr-}", d), "bad.strong");
        assert_eq!(exp("%{l1r-}", d), "strong");
        assert_eq!(
            exp("%{ir}.%{v}._spf.%{d2}", d),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            exp("%{lr-}.lp._spf.%{d2}", d),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            exp("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", d),
            "3.2.0.192.in-addr.strong.lp._spf.example.com"
        );
        assert_eq!(
            exp("%{d2}.trusted-domains.example.net", d),
            "example.com.trusted-domains.example.net"
        );
    }

    #[test]
    fn ipv6_nibbles_and_escapes() {
        let mut v = vars();
        v.ip = "2001:db8::cb01".parse().unwrap();
        let ms = MacroString::parse("%{ir}.%{v}._spf.%{d2}", false).unwrap();
        assert_eq!(
            expand(&ms, &v, Target::DomainName),
            "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com"
        );
        assert_eq!(exp("a%%b%_c%-d", Target::Explanation), "a%b c%20d");
        assert_eq!(
            exp("%{S}", Target::Explanation),
            "strong-bad%40email.example.com"
        );
        assert_eq!(
            exp("%{c} at %{t}", Target::Explanation),
            "192.0.2.3 at 1700000000"
        );
        assert_eq!(exp("%{p}", Target::DomainName), "unknown");
    }

    #[test]
    fn grammar_errors() {
        let kind = |s| MacroString::parse(s, false).unwrap_err().0;
        assert_eq!(kind("%"), ParseErrorKind::InvalidMacro);
        assert_eq!(kind("%x"), ParseErrorKind::InvalidMacro);
        assert_eq!(kind("%{d"), ParseErrorKind::InvalidMacro);
        assert_eq!(kind("%{d0}"), ParseErrorKind::ZeroMacroDigits);
        assert_eq!(
            kind("%{q}"),
            ParseErrorKind::InvalidMacroLetter { letter: 'q' }
        );
        assert_eq!(
            kind("%{t}"),
            ParseErrorKind::MacroLetterOnlyInExp { letter: 't' }
        );
        assert_eq!(kind("%{d2r+-x}"), ParseErrorKind::InvalidMacro);
        assert!(MacroString::parse("%{d2r+-./_=,}", false).is_ok());
        assert!(MacroString::parse("%{R} %{C}", true).is_ok());
    }

    /// RFC 7208 §7.3 word for word: split into a list, reverse it, keep the
    /// right-hand parts, join with dots. `transform` gets there without the list.
    fn transform_as_written(value: &str, m: &Macro<'_>) -> String {
        let delims = if m.delimiters.is_empty() {
            "."
        } else {
            m.delimiters
        };
        let mut parts: Vec<&str> = value.split(|c: char| delims.contains(c)).collect();
        if m.reverse {
            parts.reverse();
        }
        let keep = m
            .digits
            .map_or(parts.len(), |d| (d as usize).min(parts.len()));
        parts[parts.len() - keep..].join(".")
    }

    proptest::proptest! {
        #[test]
        fn transform_follows_the_rfc_wording(
            value in "[a-c.+=_é-]{0,12}",
            digits in proptest::option::of(1u32..6),
            reverse: bool,
            delimiters in "[.+=_-]{0,3}",
            prefix in "[a-z]{0,3}",
        ) {
            let m = Macro { letter: MacroLetter::Domain, url_escape: false, digits, reverse, delimiters: &delimiters };
            let mut out = prefix.clone();
            transform(&value, &m, &mut out);
            proptest::prop_assert_eq!(out, format!("{prefix}{}", transform_as_written(&value, &m)));
        }

        #[test]
        fn expanding_into_a_buffer_appends(text in "[a-z.]{0,8}(%\\{[slodihv][1-9]?r?[.-]?\\}[a-z.]{0,4}){0,3}", prefix in "[a-z.]{0,6}") {
            let ms = MacroString::parse(&text, false).unwrap();
            // Long values too, so that truncation cuts relative to the prefix.
            let long = "abcdefghi.".repeat(60);
            let long_vars = MacroVars { domain: &long, sender: &long, ..vars() };
            for v in [vars(), long_vars] {
                for target in [Target::DomainName, Target::Explanation] {
                    let mut out = prefix.clone();
                    expand_into(&ms, &v, target, &mut out);
                    proptest::prop_assert_eq!(out, format!("{prefix}{}", expand(&ms, &v, target)));
                }
            }
        }
    }

    #[test]
    fn url_escapes_every_byte_of_a_character() {
        let mut v = vars();
        v.local_part = "jö+x";
        let ms = MacroString::parse("%{L}", true).unwrap();
        assert_eq!(expand(&ms, &v, Target::Explanation), "j%C3%B6%2Bx");
    }

    #[test]
    fn long_names_are_truncated_by_labels() {
        let mut v = vars();
        let long = format!("{}.example.com", "abcdefghi.".repeat(40));
        v.domain = &long;
        let ms = MacroString::parse("%{d}", false).unwrap();
        let out = expand(&ms, &v, Target::DomainName);
        assert!(out.len() <= 253);
        assert!(out.ends_with(".example.com"));
        assert!(out.starts_with("abcdefghi."));
        // Hostile sizes stay bounded.
        let big = "%{s}".repeat(5000);
        v.sender = "x";
        let ms = MacroString::parse(&big, false).unwrap();
        assert!(expand(&ms, &v, Target::DomainName).len() <= 253);
        let ms = MacroString::parse(&big, true).unwrap();
        assert!(expand(&ms, &v, Target::Explanation).len() <= MAX_EXPLANATION);
    }
}
