//! A compiled whitelist: "is this client allowed, and by which entry?" in O(log n).
//!
//! The gateway asks for every connection, so the networks are turned once
//! into two sorted tables of address intervals (IPv4 as `u32`, IPv6 as
//! `u128`) and each lookup is one binary search.
//!
//! Building drops every interval that lies inside an earlier one (sorted by
//! start, widest first). What stays has strictly increasing starts *and*
//! ends, so the only candidate for an address is the last interval starting
//! at or before it: if that one does not reach the address, no interval does.
//! Because kept intervals are whole original networks, not merged spans, the
//! entry reported is one that really contains the address — the widest one,
//! the earliest listed among equals.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are IPv4 clients seen
//! through a dual-stack socket: they match IPv4 entries, and IPv4-mapped
//! entries match IPv4 clients.
//!
//! ```
//! use spfgate::policy::matcher::IpMatcher;
//!
//! let nets = ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"].map(|n| n.parse().unwrap());
//! let matcher = IpMatcher::new(nets);
//! assert_eq!(matcher.find("192.0.2.7".parse().unwrap()), Some(1));
//! assert_eq!(matcher.find("::ffff:10.1.2.3".parse().unwrap()), Some(0));
//! assert_eq!(matcher.find("198.51.100.1".parse().unwrap()), None);
//! ```

use std::net::IpAddr;

use ipnet::IpNet;

use super::whitelist::{Entry, Whitelist, WhitelistReport, mapped_ipv4};

/// Whitelist networks compiled for fast lookups; immutable, `Send + Sync`,
/// so one instance can serve every connection thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpMatcher {
    v4: Table<u32>,
    v6: Table<u128>,
}

impl IpMatcher {
    /// Compiles networks; [`find`](Self::find) reports the position of the
    /// matching network in `networks` (0-based).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self::from_tagged(networks.into_iter().enumerate().map(|(i, n)| (n, i)))
    }

    /// The tag of an entry containing `ip`, or `None` if no entry does.
    ///
    /// The tag is the position of the network given to [`new`](Self::new),
    /// or the index into [`Whitelist::entries`] for a matcher built from a
    /// [`Whitelist`]. Among several containing entries the widest is
    /// reported, and the earliest among equally wide ones.
    pub fn find(&self, ip: IpAddr) -> Option<usize> {
        match ip {
            IpAddr::V4(a) => self.v4.find(u32::from(a)),
            IpAddr::V6(a) => self.v6.find(u128::from(a)).or_else(|| {
                a.to_ipv4_mapped()
                    .and_then(|mapped| self.v4.find(u32::from(mapped)))
            }),
        }
    }

    /// Whether any entry contains `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.find(ip).is_some()
    }

    /// Each entry's networks, tagged with the entry's index.
    fn from_entries(entries: &[Entry]) -> Self {
        Self::from_tagged(
            entries
                .iter()
                .enumerate()
                .flat_map(|(i, e)| e.networks.iter().map(move |&n| (n, i))),
        )
    }

    fn from_tagged(networks: impl IntoIterator<Item = (IpNet, usize)>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (net, tag) in networks {
            let net = match net {
                IpNet::V6(n) => mapped_ipv4(&n).map_or(net, IpNet::V4),
                IpNet::V4(_) => net,
            };
            match net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.broadcast()), tag)),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()), tag)),
            }
        }
        IpMatcher {
            v4: Table::build(v4),
            v6: Table::build(v6),
        }
    }
}

impl From<&Whitelist> for IpMatcher {
    /// Compiles a checked whitelist; [`IpMatcher::find`] then reports the
    /// index into [`Whitelist::entries`].
    fn from(list: &Whitelist) -> Self {
        Self::from_entries(list.entries())
    }
}

impl From<&WhitelistReport> for IpMatcher {
    /// Compiles the accepted entries of a report (whatever its errors);
    /// [`IpMatcher::find`] then reports the index into
    /// [`WhitelistReport::entries`].
    fn from(report: &WhitelistReport) -> Self {
        Self::from_entries(&report.entries)
    }
}

/// Intervals with strictly increasing starts and ends. Starts are a vector of
/// their own so the binary search reads nothing else; each end sits next to
/// its tag so a lookup's last step is one memory access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table<T> {
    starts: Vec<T>,
    ends_and_tags: Vec<(T, usize)>,
}

impl<T: Copy + Ord> Table<T> {
    fn build(mut intervals: Vec<(T, T, usize)>) -> Self {
        // Start ascending, widest first, earliest tag first among equals.
        intervals.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut starts = Vec::new();
        let mut ends_and_tags: Vec<(T, usize)> = Vec::new();
        for (start, end, tag) in intervals {
            // Inside the previous kept interval (which starts no later): drop.
            if ends_and_tags.last().is_none_or(|&(last, _)| end > last) {
                starts.push(start);
                ends_and_tags.push((end, tag));
            }
        }
        starts.shrink_to_fit();
        ends_and_tags.shrink_to_fit();
        Table {
            starts,
            ends_and_tags,
        }
    }

    fn find(&self, addr: T) -> Option<usize> {
        let i = self.starts.partition_point(|&s| s <= addr).checked_sub(1)?;
        let &(end, tag) = self.ends_and_tags.get(i)?;
        (end >= addr).then_some(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::whitelist::parse_whitelist_strict;
    use ipnet::{Ipv4Net, Ipv6Net};
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn matcher(nets: &[&str]) -> IpMatcher {
        IpMatcher::new(nets.iter().map(|n| n.parse::<IpNet>().unwrap()))
    }

    /// The matching rule, spelled out: a network matches a client if it
    /// contains it, or if both seen as IPv4 (unmapping `::ffff:0:0/96`) do.
    fn reference_matches(net: &IpNet, client: IpAddr) -> bool {
        let canonical_net = match net {
            IpNet::V6(n) => mapped_ipv4(n).map_or(*net, IpNet::V4),
            IpNet::V4(_) => *net,
        };
        net.contains(&client) || canonical_net.contains(&client.to_canonical())
    }

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<IpMatcher>();
    }

    #[test]
    fn empty_matcher_matches_nothing() {
        let m = IpMatcher::new([]);
        assert_eq!(m.find(ip("0.0.0.0")), None);
        assert_eq!(m.find(ip("::")), None);
    }

    #[test]
    fn finds_the_entry_that_contains_the_address() {
        // Adjacent and overlapping networks: the answer names the right one,
        // not a neighbour they would have been merged with.
        let m = matcher(&[
            "10.0.0.0/25",
            "10.0.0.128/25",
            "10.0.1.0/24",
            "10.0.0.64/26",
        ]);
        assert_eq!(m.find(ip("10.0.0.1")), Some(0));
        assert_eq!(m.find(ip("10.0.0.70")), Some(0));
        assert_eq!(m.find(ip("10.0.0.200")), Some(1));
        assert_eq!(m.find(ip("10.0.1.255")), Some(2));
        assert_eq!(m.find(ip("10.0.2.0")), None);
        assert_eq!(m.find(ip("9.255.255.255")), None);
    }

    #[test]
    fn reports_the_widest_then_earliest_entry() {
        let m = matcher(&[
            "192.0.2.1/32",
            "192.0.2.0/24",
            "192.0.2.0/24",
            "192.0.0.0/16",
        ]);
        assert_eq!(m.find(ip("192.0.2.1")), Some(3));
        let m = matcher(&["192.0.2.0/24", "192.0.2.0/24"]);
        assert_eq!(m.find(ip("192.0.2.1")), Some(0));
    }

    #[test]
    fn edges_of_the_address_space() {
        let m = matcher(&[
            "0.0.0.0/32",
            "255.255.255.255/32",
            "::/128",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
        ]);
        assert_eq!(m.find(ip("0.0.0.0")), Some(0));
        assert_eq!(m.find(ip("255.255.255.255")), Some(1));
        assert_eq!(m.find(ip("::")), Some(2));
        assert_eq!(
            m.find(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
            Some(3)
        );
        assert_eq!(m.find(ip("0.0.0.1")), None);
        assert_eq!(m.find(ip("::1")), None);
        let all = matcher(&["0.0.0.0/0", "::/0"]);
        assert_eq!(all.find(ip("203.0.113.9")), Some(0));
        assert_eq!(all.find(ip("2001:db8::1")), Some(1));
    }

    #[test]
    fn ipv4_mapped_clients_and_entries_match_ipv4() {
        let m = matcher(&["192.0.2.0/24", "::ffff:198.51.100.0/120", "2001:db8::/32"]);
        assert_eq!(m.find(ip("::ffff:192.0.2.1")), Some(0));
        assert_eq!(m.find(ip("198.51.100.7")), Some(1));
        assert_eq!(m.find(ip("::ffff:198.51.100.7")), Some(1));
        // IPv4-compatible (deprecated) addresses are not IPv4 clients.
        assert_eq!(m.find(ip("::192.0.2.1")), None);
        assert_eq!(m.find(ip("2001:db8::c000:201")), Some(2));
        // A v6 network wider than the mapped block matches mapped clients as v6.
        let wide = matcher(&["::/64"]);
        assert_eq!(wide.find(ip("::ffff:192.0.2.1")), Some(0));
        assert_eq!(wide.find(ip("192.0.2.1")), None);
    }

    #[test]
    fn from_whitelist_reports_entry_indexes() {
        let list =
            parse_whitelist_strict("2001:db8::/32\n10.0.0.1-10.0.0.6\n192.0.2.0/24").unwrap();
        let m = IpMatcher::from(&list);
        assert_eq!(m.find(ip("10.0.0.5")), Some(1));
        assert_eq!(m.find(ip("10.0.0.7")), None);
        assert_eq!(m.find(ip("192.0.2.200")), Some(2));
        assert_eq!(m.find(ip("2001:db8:1::1")), Some(0));
        assert!(m.contains(ip("10.0.0.1")));
        assert!(!m.contains(ip("10.0.0.0")));
    }

    #[test]
    fn from_report_skips_rejected_entries_in_its_indexes() {
        let report =
            super::super::whitelist::parse_whitelist("10.0.0.1-10.0.0.6\n300.1.1.1\n192.0.2.0/24");
        let m = IpMatcher::from(&report);
        assert_eq!(m.find(ip("10.0.0.5")), Some(0));
        assert_eq!(m.find(ip("192.0.2.200")), Some(1));
        assert_eq!(report.entries[1].text, "192.0.2.0/24");
        assert_eq!(m.find(ip("10.0.0.7")), None);
    }

    /// Addresses from a few small neighbourhoods so networks overlap and
    /// clients hit them often.
    fn client() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u16>().prop_map(|x| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | u32::from(x)))),
            any::<u16>()
                .prop_map(|x| IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(x)))),
            any::<u16>()
                .prop_map(|x| IpAddr::V6(Ipv6Addr::from(0xffff_0a00_0000_u128 | u128::from(x)))),
            any::<u128>().prop_map(|x| IpAddr::V6(Ipv6Addr::from(x))),
            any::<u32>().prop_map(|x| IpAddr::V4(Ipv4Addr::from(x))),
        ]
    }

    fn network() -> impl Strategy<Value = IpNet> {
        (client(), 0u8..=128).prop_map(|(addr, len)| match addr {
            IpAddr::V4(a) => IpNet::V4(Ipv4Net::new(a, 16 + len % 17).unwrap()),
            IpAddr::V6(a) => {
                IpNet::V6(Ipv6Net::new(a, if len < 8 { len } else { 96 + len % 33 }).unwrap())
            }
        })
    }

    proptest! {
        #[test]
        fn agrees_with_a_linear_scan(
            nets in proptest::collection::vec(network(), 0..40),
            clients in proptest::collection::vec(client(), 1..40),
        ) {
            let m = IpMatcher::new(nets.iter().copied());
            for c in clients {
                let expected = nets.iter().any(|n| reference_matches(n, c));
                match m.find(c) {
                    Some(i) => {
                        prop_assert!(expected, "{c} matched {:?} but nothing contains it", nets.get(i));
                        prop_assert!(reference_matches(&nets[i], c), "{c} reported in {}", nets[i]);
                    }
                    None => prop_assert!(!expected, "{c} missed"),
                }
            }
        }
    }
}
