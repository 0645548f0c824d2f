//! Void lookups (RFC 7208 §4.6.4) as the walk counts them: per client address family,
//! since `a` terms and MX hosts are looked up as A records for IPv4 clients and AAAA
//! records for IPv6 clients.

use crate::dns::Answer;
use crate::dns::name::is_queryable_name;

/// What the A and AAAA lookups of names found: void lookups, and lookups with records.
#[derive(Clone, Copy, Default)]
pub(super) struct AddressVoids {
    pub(super) v4: bool,
    pub(super) v6: bool,
    v4_found: bool,
    v6_found: bool,
}

impl AddressVoids {
    /// What the A answer `v4` and the AAAA answer `v6` for `name` found.
    pub(super) fn of(name: &str, v4: &Answer, v6: &Answer) -> AddressVoids {
        let queryable = is_queryable_name(name.as_bytes());
        AddressVoids {
            v4: is_void(name, v4),
            v6: is_void(name, v6),
            v4_found: queryable && !v4.is_void(),
            v6_found: queryable && !v6.is_void(),
        }
    }

    /// Gathers another name's lookups.
    pub(super) fn add(&mut self, other: AddressVoids) {
        self.v4 |= other.v4;
        self.v6 |= other.v6;
        self.v4_found |= other.v4_found;
        self.v6_found |= other.v6_found;
    }

    /// Void for the term when some lookup was void and none found records.
    pub(super) fn per_term(self) -> AddressVoids {
        AddressVoids {
            v4: self.v4 && !self.v4_found,
            v6: self.v6 && !self.v6_found,
            ..self
        }
    }
}

/// Which client families a void lookup counts for.
#[derive(Clone, Copy)]
pub(super) enum Family {
    V4,
    V6,
    Both,
}

/// A void lookup (RFC 7208 §4.6.4): NXDOMAIN or no records, from a name that was asked.
/// Names DNS cannot carry are answered NXDOMAIN without asking, and are not void
/// lookups, as in the evaluator.
pub(super) fn is_void(name: &str, answer: &Answer) -> bool {
    answer.is_void() && is_queryable_name(name.as_bytes())
}
