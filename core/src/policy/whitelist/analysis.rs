//! Report assembly and analysis: accepted and rejected entries, host bits, redundant
//! entries, RFC 6890 special-purpose blocks.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::text::{Entries, Parsed, Token, quote, value};
use super::{
    Entry, MAX_DIAGNOSTICS, MAX_NETWORKS, WhitelistError, WhitelistErrorKind, WhitelistReport,
    WhitelistWarning, WhitelistWarningKind, mapped_ipv4,
};

// ---------------------------------------------------------------------------
// Report assembly

#[derive(Default)]
pub(super) struct Builder {
    report: WhitelistReport,
    /// Per entry: the CIDR typed had host bits set.
    host_bits_set: Vec<bool>,
    networks: usize,
    full: bool,
}

impl Builder {
    pub(super) fn feed(&mut self, text: &str, fixed_line: Option<usize>) {
        let mut entries = Entries::new(text, fixed_line);
        while !self.full {
            let Some(token) = entries.next() else {
                break;
            };
            match value(token.text) {
                Ok(parsed) => self.accept(token, parsed),
                Err(kind) => self.reject(&token, kind),
            }
        }
    }

    pub(super) fn accept(&mut self, token: Token<'_>, parsed: Parsed) {
        let total = self.networks.saturating_add(parsed.networks.len());
        if total > MAX_NETWORKS {
            self.full = true;
            self.reject(
                &token,
                WhitelistErrorKind::TooManyNetworks { max: MAX_NETWORKS },
            );
            return;
        }
        self.networks = total;
        self.host_bits_set.push(parsed.host_bits_set);
        self.report.entries.push(Entry {
            networks: parsed.networks,
            text: token.text.to_owned(),
            line: token.line,
            column: token.column,
            span: token.span,
        });
    }

    pub(super) fn reject(&mut self, token: &Token<'_>, kind: WhitelistErrorKind) {
        if self.report.errors.len() < MAX_DIAGNOSTICS {
            self.report.errors.push(WhitelistError {
                line: token.line,
                column: token.column,
                span: token.span.clone(),
                text: quote(token.text),
                kind,
            });
        } else {
            self.report.errors_omitted = self.report.errors_omitted.saturating_add(1);
        }
    }

    pub(super) fn finish(mut self) -> WhitelistReport {
        let redundant = find_redundant(&self.report.entries);
        let mut warnings = Vec::new();
        let mut omitted = 0usize;
        let mut warn = |entry: &Entry, kind| {
            if warnings.len() < MAX_DIAGNOSTICS {
                warnings.push(WhitelistWarning {
                    line: entry.line,
                    column: entry.column,
                    span: entry.span.clone(),
                    text: entry.text.clone(),
                    kind,
                });
            } else {
                omitted = omitted.saturating_add(1);
            }
        };
        let entries = &self.report.entries;
        for (i, entry) in entries.iter().enumerate() {
            if self.host_bits_set.get(i).copied().unwrap_or(false) {
                if let Some(&normalized) = entry.networks.first() {
                    warn(entry, WhitelistWarningKind::HostBitsSet { normalized });
                }
            }
            for kind in special_warnings(&entry.networks) {
                warn(entry, kind);
            }
            match redundant.get(i) {
                Some(Some(Redundancy::Duplicate(of, _))) => {
                    if let Some(other) = entries.get(*of) {
                        warn(
                            entry,
                            WhitelistWarningKind::Duplicate {
                                line: other.line,
                                column: other.column,
                            },
                        );
                    }
                }
                Some(Some(Redundancy::Contained(of, net))) => {
                    if let Some(other) = entries.get(*of) {
                        warn(
                            entry,
                            WhitelistWarningKind::ContainedIn {
                                other: *net,
                                line: other.line,
                                column: other.column,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
        self.report.warnings = warnings;
        self.report.warnings_omitted = omitted;
        self.report
    }
}

/// Why an entry adds nothing to the list.
#[derive(Clone, Copy)]
pub(super) enum Redundancy {
    /// All its networks equal networks of this earlier entry (the first
    /// of them given).
    Duplicate(usize, IpNet),
    /// All its networks lie inside other entries; the first inside this
    /// network of this entry.
    Contained(usize, IpNet),
}

/// Per entry, whether every one of its networks is already covered by
/// another entry. One sort and one sweep: after sorting by (start, widest
/// first, earliest entry first), a network is covered iff the widest-reaching
/// network seen so far in its family reaches its end.
pub(super) fn find_redundant(entries: &[Entry]) -> Vec<Option<Redundancy>> {
    struct Item {
        v6: bool,
        start: u128,
        end: u128,
        entry: usize,
        net: IpNet,
    }
    let mut items: Vec<Item> = entries
        .iter()
        .enumerate()
        .flat_map(|(entry, e)| {
            e.networks.iter().map(move |&net| {
                let canonical = match net {
                    IpNet::V6(n) => mapped_ipv4(&n).map_or(net, IpNet::V4),
                    IpNet::V4(_) => net,
                };
                let (v6, start, end) = match canonical {
                    IpNet::V4(n) => (
                        false,
                        u128::from(u32::from(n.network())),
                        u128::from(u32::from(n.broadcast())),
                    ),
                    IpNet::V6(n) => (true, u128::from(n.network()), u128::from(n.broadcast())),
                };
                Item {
                    v6,
                    start,
                    end,
                    entry,
                    net,
                }
            })
        })
        .collect();
    items.sort_unstable_by(|a, b| {
        (a.v6, a.start, b.end, a.entry).cmp(&(b.v6, b.start, a.end, b.entry))
    });

    // Per entry: None = not yet seen, Some(None) = some network is needed,
    // Some(Some(r)) = every network so far is redundant.
    let mut result: Vec<Option<Option<Redundancy>>> = vec![None; entries.len()];
    let mut widest: Option<usize> = None;
    let mut group_first = 0usize;
    for (i, item) in items.iter().enumerate() {
        let same_family = |j: usize| items.get(j).is_some_and(|o| o.v6 == item.v6);
        let equal_to_previous = i > 0
            && items
                .get(i - 1)
                .is_some_and(|p| p.v6 == item.v6 && p.start == item.start && p.end == item.end);
        if !equal_to_previous {
            group_first = i;
        }
        if widest.is_some_and(|w| !same_family(w)) {
            widest = None;
        }
        let verdict = if equal_to_previous {
            items
                .get(group_first)
                .map(|f| Redundancy::Duplicate(f.entry, f.net))
        } else {
            widest
                .and_then(|w| items.get(w))
                .filter(|w| w.end >= item.end)
                .map(|w| Redundancy::Contained(w.entry, w.net))
        };
        if widest
            .and_then(|w| items.get(w))
            .is_none_or(|w| item.end > w.end)
        {
            widest = Some(i);
        }
        if let Some(slot) = result.get_mut(item.entry) {
            *slot = match (*slot, verdict) {
                (_, None) | (Some(None), _) => Some(None),
                (None, Some(v)) => Some(Some(v)),
                (Some(Some(prev)), Some(v)) => Some(Some(merge(prev, v))),
            };
        }
    }
    result.into_iter().map(Option::flatten).collect()
}

/// Two verdicts for networks of one entry: a duplicate only if both repeat
/// the same earlier entry; the network reported is the first in the entry.
pub(super) fn merge(a: Redundancy, b: Redundancy) -> Redundancy {
    match (a, b) {
        (Redundancy::Duplicate(x, _), Redundancy::Duplicate(y, _)) if x == y => a,
        (Redundancy::Duplicate(x, net) | Redundancy::Contained(x, net), _) => {
            Redundancy::Contained(x, net)
        }
    }
}

/// The special-purpose blocks worth a warning, most specific first.
pub(super) const SPECIAL_BLOCKS: [(IpNet, Special); 19] = [
    (v4([0, 0, 0, 0], 8), Special::Unspecified),
    (v4([10, 0, 0, 0], 8), Special::Private),
    (v4([100, 64, 0, 0], 10), Special::Shared),
    (v4([127, 0, 0, 0], 8), Special::Loopback),
    (v4([169, 254, 0, 0], 16), Special::LinkLocal),
    (v4([172, 16, 0, 0], 12), Special::Private),
    (v4([192, 0, 2, 0], 24), Special::Documentation),
    (v4([192, 168, 0, 0], 16), Special::Private),
    (v4([198, 51, 100, 0], 24), Special::Documentation),
    (v4([203, 0, 113, 0], 24), Special::Documentation),
    (v4([224, 0, 0, 0], 4), Special::Multicast),
    (v4([240, 0, 0, 0], 4), Special::Reserved),
    (v6(0, 128), Special::Unspecified),
    (v6(1, 128), Special::Loopback),
    (v6(0x2001_0db8 << 96, 32), Special::Documentation),
    (v6(0x3fff << 112, 20), Special::Documentation),
    (v6(0xfc00 << 112, 7), Special::Private),
    (v6(0xfe80 << 112, 10), Special::LinkLocal),
    (v6(0xff00 << 112, 8), Special::Multicast),
];

#[derive(Clone, Copy)]
pub(super) enum Special {
    Unspecified,
    Private,
    Shared,
    Loopback,
    LinkLocal,
    Documentation,
    Multicast,
    Reserved,
}

pub(super) const fn v4(octets: [u8; 4], prefix: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new_assert(
        Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]),
        prefix,
    ))
}

pub(super) const fn v6(bits: u128, prefix: u8) -> IpNet {
    IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::from_bits(bits), prefix))
}

/// Warnings about where an entry's networks lie, each kind once per entry.
pub(super) fn special_warnings(networks: &[IpNet]) -> Vec<WhitelistWarningKind> {
    let mut kinds: Vec<WhitelistWarningKind> = Vec::new();
    let mut add = |kind: WhitelistWarningKind| {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    };
    for &net in networks {
        let canonical = match net {
            IpNet::V6(n) => match mapped_ipv4(&n) {
                Some(ipv4) => {
                    add(WhitelistWarningKind::Ipv4Mapped { ipv4 });
                    IpNet::V4(ipv4)
                }
                None => net,
            },
            IpNet::V4(_) => net,
        };
        if canonical.prefix_len() == 0 {
            add(WhitelistWarningKind::WholeInternet);
            continue;
        }
        let found = SPECIAL_BLOCKS
            .iter()
            .find(|(block, _)| match (block, canonical) {
                (IpNet::V4(b), IpNet::V4(n)) => b.contains(&n),
                (IpNet::V6(b), IpNet::V6(n)) => b.contains(&n),
                _ => false,
            });
        if let Some(&(block, special)) = found {
            add(match special {
                Special::Unspecified => WhitelistWarningKind::Unspecified { block },
                Special::Private => WhitelistWarningKind::PrivateRange { block },
                Special::Shared => WhitelistWarningKind::SharedAddressSpace { block },
                Special::Loopback => WhitelistWarningKind::Loopback { block },
                Special::LinkLocal => WhitelistWarningKind::LinkLocal { block },
                Special::Documentation => WhitelistWarningKind::Documentation { block },
                Special::Multicast => WhitelistWarningKind::Multicast { block },
                Special::Reserved => WhitelistWarningKind::Reserved { block },
            });
        }
    }
    kinds
}
