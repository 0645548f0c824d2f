//! Serde helpers: networks and addresses serialized as their text.

use std::fmt;

use ipnet::IpNet;
use serde::{Serialize, Serializer};

pub(super) fn serialize_display<T: fmt::Display, S: Serializer>(
    value: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

pub(super) fn serialize_networks<S: Serializer>(nets: &[IpNet], s: S) -> Result<S::Ok, S::Error> {
    struct AsText<'a>(&'a IpNet);
    impl Serialize for AsText<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self.0)
        }
    }
    s.collect_seq(nets.iter().map(AsText))
}
