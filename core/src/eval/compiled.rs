//! Records compiled for evaluation: parsed once when fetched, their domain-specs
//! copied into the evaluation's text arena, so resuming after a lookup neither parses
//! the record again nor allocates.

use ipnet::{Ipv4Net, Ipv6Net};

use crate::macros::{MacroLetter, MacroString, push_decimal, write_dotted_ip};
use crate::record::{
    Directive, DualCidr, Mechanism, Modifier, ParseError, Qualifier, Term, visit_terms_bytes,
};

/// A string in the evaluation's text arena: record strings, domains, lookup names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Str {
    start: u32,
    len: u32,
}

impl Str {
    /// Appends `s` to the arena.
    pub(super) fn push(arena: &mut String, s: &str) -> Str {
        let start = arena.len() as u32;
        arena.push_str(s);
        Str {
            start,
            len: s.len() as u32,
        }
    }

    /// What was appended to the arena since it was `start` bytes long.
    pub(super) fn since(arena: &str, start: usize) -> Str {
        Str {
            start: start as u32,
            len: (arena.len() - start) as u32,
        }
    }

    pub(super) fn get(self, arena: &str) -> &str {
        &arena[self.start as usize..(self.start + self.len) as usize]
    }

    /// The string's bytes: for comparisons, which need no character boundary checks.
    pub(super) fn bytes(self, arena: &str) -> &[u8] {
        &arena.as_bytes()[self.start as usize..(self.start + self.len) as usize]
    }

    pub(super) fn len(self) -> usize {
        self.len as usize
    }

    /// The same string without its first `n` bytes.
    pub(super) fn skip(self, n: usize) -> Str {
        Str {
            start: self.start + n as u32,
            len: self.len - n as u32,
        }
    }

    /// The same string without one final dot.
    pub(super) fn strip_dot(self, arena: &str) -> Str {
        let stripped = self.bytes(arena).last() == Some(&b'.');
        Str {
            start: self.start,
            len: self.len - u32::from(stripped),
        }
    }
}

/// A domain-spec and what expanding it needs to know.
#[derive(Debug, Clone, Copy)]
pub(super) struct Spec {
    pub(super) text: Str,
    /// No macros: the spec is its own expansion.
    pub(super) literal: bool,
    /// Uses `%{p}`, which needs the client's validated names first.
    pub(super) uses_p: bool,
}

impl Spec {
    fn new(ms: &MacroString<'_>, arena: &mut String) -> Spec {
        let literal = ms.is_literal();
        Spec {
            text: Str::push(arena, ms.as_str()),
            literal,
            uses_p: !literal && ms.uses(MacroLetter::ValidatedName),
        }
    }

    pub(super) fn macro_string(self, arena: &str) -> MacroString<'_> {
        MacroString::from_validated(self.text.get(arena))
    }
}

/// A mechanism whose strings live in the arena.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mech {
    All,
    Ip4(Ipv4Net),
    Ip6(Ipv6Net),
    A(Option<Spec>, DualCidr),
    Mx(Option<Spec>, DualCidr),
    Ptr(Option<Spec>),
    Include(Spec),
    Exists(Spec),
}

impl Mech {
    fn new(mechanism: &Mechanism<'_>, arena: &mut String) -> Mech {
        let mut spec = |ms: &MacroString<'_>| Spec::new(ms, arena);
        match mechanism {
            Mechanism::All => Mech::All,
            Mechanism::Ip4(net) => Mech::Ip4(*net),
            Mechanism::Ip6(net) => Mech::Ip6(*net),
            Mechanism::A { domain, cidr } => Mech::A(domain.as_ref().map(spec), *cidr),
            Mechanism::Mx { domain, cidr } => Mech::Mx(domain.as_ref().map(spec), *cidr),
            Mechanism::Ptr(domain) => Mech::Ptr(domain.as_ref().map(spec)),
            Mechanism::Include(domain) => Mech::Include(spec(domain)),
            Mechanism::Exists(domain) => Mech::Exists(spec(domain)),
            // `Mechanism` is non-exhaustive for users only; every variant is handled.
            #[allow(unreachable_patterns)]
            _ => unreachable!("every mechanism is compiled"),
        }
    }

    /// Counts against the limit of 10 DNS-querying terms.
    pub(super) fn queries_dns(self) -> bool {
        !matches!(self, Mech::All | Mech::Ip4(_) | Mech::Ip6(_))
    }
}

/// One entry of the compiled-record list: a record header followed by its directives.
#[derive(Debug, Clone, Copy)]
pub(super) enum Op {
    Record(Header),
    Directive(Qualifier, Mech),
}

/// What starts a compiled record: how many directives follow, and its two modifiers.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Header {
    pub(super) directives: u32,
    pub(super) redirect: Option<Spec>,
    pub(super) exp: Option<Spec>,
}

/// The header of the record compiled at `at`.
pub(super) fn header(ops: &[Op], at: u32) -> Header {
    match ops[at as usize] {
        Op::Record(header) => header,
        Op::Directive(..) => unreachable!("records are referred to by their header"),
    }
}

/// Compiles a record's text; returns the index of its [`Op::Record`] header.
pub(super) fn compile(
    bytes: &[u8],
    ops: &mut Vec<Op>,
    arena: &mut String,
) -> Result<u32, Box<ParseError>> {
    let (at, mark) = (ops.len(), arena.len());
    let mut header = Header::default();
    ops.push(Op::Record(header));
    let visited = visit_terms_bytes(bytes, |term| match term {
        Term::Directive(d) => {
            ops.push(Op::Directive(d.qualifier, Mech::new(&d.mechanism, arena)));
            header.directives += 1;
        }
        Term::Modifier(Modifier::Redirect(spec)) => header.redirect = Some(Spec::new(&spec, arena)),
        Term::Modifier(Modifier::Explanation(spec)) => header.exp = Some(Spec::new(&spec, arena)),
        Term::Modifier(_) => {}
    });
    if let Err(error) = visited {
        // Forget what the terms before the error left behind.
        ops.truncate(at);
        arena.truncate(mark);
        return Err(error);
    }
    ops[at] = Op::Record(header);
    Ok(at as u32)
}

/// The directive's canonical text, for traces.
pub(super) fn directive_text(qualifier: Qualifier, mech: Mech, arena: &str) -> String {
    let mut text = String::new();
    write_directive(&mut text, qualifier, mech, arena);
    text
}

/// Replaces `out` with the directive's canonical text, for outcomes: the text
/// [`Directive`]'s `Display` writes, without the formatting machinery (which costs
/// several times more) except for IPv6 addresses.
pub(super) fn write_directive(out: &mut String, qualifier: Qualifier, mech: Mech, arena: &str) {
    out.clear();
    // Room for a typical directive, so writing it does not grow the string piecewise.
    out.reserve(64);
    if qualifier != Qualifier::Pass {
        out.push(qualifier.as_char());
    }
    let spec = |out: &mut String, spec: Option<Spec>| {
        if let Some(spec) = spec {
            out.push(':');
            out.push_str(spec.text.get(arena));
        }
    };
    let cidr = |out: &mut String, cidr: DualCidr| {
        if cidr.v4 != 32 {
            out.push('/');
            push_decimal(cidr.v4, out);
        }
        if cidr.v6 != 128 {
            out.push_str("//");
            push_decimal(cidr.v6, out);
        }
    };
    match mech {
        Mech::All => out.push_str("all"),
        Mech::Include(domain) => {
            out.push_str("include");
            spec(out, Some(domain));
        }
        Mech::Exists(domain) => {
            out.push_str("exists");
            spec(out, Some(domain));
        }
        Mech::A(domain, dual) => {
            out.push('a');
            spec(out, domain);
            cidr(out, dual);
        }
        Mech::Mx(domain, dual) => {
            out.push_str("mx");
            spec(out, domain);
            cidr(out, dual);
        }
        Mech::Ptr(domain) => {
            out.push_str("ptr");
            spec(out, domain);
        }
        Mech::Ip4(net) => {
            out.push_str("ip4:");
            write_dotted_ip(net.addr().into(), out);
            if net.prefix_len() != 32 {
                out.push('/');
                push_decimal(net.prefix_len(), out);
            }
        }
        Mech::Ip6(_) => {
            use std::fmt::Write as _;
            out.clear();
            let _ = write!(out, "{}", directive(qualifier, mech, arena));
        }
    }
}

/// The directive as the record types show it.
fn directive(qualifier: Qualifier, mech: Mech, arena: &str) -> Directive<'_> {
    let spec = |s: Spec| s.macro_string(arena);
    let mechanism = match mech {
        Mech::All => Mechanism::All,
        Mech::Ip4(net) => Mechanism::Ip4(net),
        Mech::Ip6(net) => Mechanism::Ip6(net),
        Mech::A(domain, cidr) => Mechanism::A {
            domain: domain.map(spec),
            cidr,
        },
        Mech::Mx(domain, cidr) => Mechanism::Mx {
            domain: domain.map(spec),
            cidr,
        },
        Mech::Ptr(domain) => Mechanism::Ptr(domain.map(spec)),
        Mech::Include(domain) => Mechanism::Include(spec(domain)),
        Mech::Exists(domain) => Mechanism::Exists(spec(domain)),
    };
    Directive {
        qualifier,
        mechanism,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written text of every mechanism form equals the record types' `Display`.
    #[test]
    fn directive_text_matches_display() {
        let record = "v=spf1 all -all ~include:_spf.example.com ?exists:%{i}.%{l1r-}.e.example \
            a a:mail.example.com a/24 a//64 a:x.example/0//0 -a:%{d}/32//128 mx mx:m.example/16 \
            mx//96 ptr ptr:%{d2} ip4:192.0.2.0/24 ip4:0.0.0.0/0 -ip4:255.255.255.255 \
            ip4:10.1.2.3/32 ip6:2001:db8::/32 ~ip6:::1 ip6:::ffff:192.0.2.1/128";
        let (mut ops, mut arena) = (Vec::new(), String::new());
        let at = compile(record.as_bytes(), &mut ops, &mut arena).unwrap();
        let count = header(&ops, at).directives;
        assert_eq!(count, 22);
        let mut out = String::from("left over");
        for op in &ops[at as usize + 1..] {
            let Op::Directive(qualifier, mech) = *op else {
                unreachable!()
            };
            write_directive(&mut out, qualifier, mech, &arena);
            assert_eq!(out, directive(qualifier, mech, &arena).to_string());
        }
    }
}
