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

use super::whitelist::{Whitelist, mapped_ipv4};

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
        Self::from_tagged(
            list.entries()
                .iter()
                .enumerate()
                .flat_map(|(i, e)| e.networks.iter().map(move |&n| (n, i))),
        )
    }
}

/// Intervals with strictly increasing starts and ends, in three parallel
/// vectors so the binary search touches only `starts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table<T> {
    starts: Vec<T>,
    ends: Vec<T>,
    tags: Vec<usize>,
}

impl<T: Copy + Ord> Table<T> {
    fn build(mut intervals: Vec<(T, T, usize)>) -> Self {
        // Start ascending, widest first, earliest tag first among equals.
        intervals.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut table = Table {
            starts: Vec::new(),
            ends: Vec::new(),
            tags: Vec::new(),
        };
        for (start, end, tag) in intervals {
            // Inside the previous kept interval (which starts no later): drop.
            if table.ends.last().is_none_or(|&last| end > last) {
                table.starts.push(start);
                table.ends.push(end);
                table.tags.push(tag);
            }
        }
        table.starts.shrink_to_fit();
        table.ends.shrink_to_fit();
        table.tags.shrink_to_fit();
        table
    }

    fn find(&self, addr: T) -> Option<usize> {
        let i = self.starts.partition_point(|&s| s <= addr).checked_sub(1)?;
        if *self.ends.get(i)? >= addr {
            self.tags.get(i).copied()
        } else {
            None
        }
    }
}
