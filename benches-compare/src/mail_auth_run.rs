//! mail-auth: `check_host` with its resolver caches holding the zone. Its `test`
//! feature answers whatever the caches do not hold with NXDOMAIN, offline.
//!
//! The caches cannot tell which record type a TXT lookup wants, so a name whose TXT
//! records hold no SPF record is handed over as explanation text; and the address
//! caches cannot hold errors, so temporary failures there read as NXDOMAIN. A few
//! suite results differ for that reason (the comparison reports how many agree).

use std::borrow::Borrow;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::spf::{Macro, Spf};
use mail_auth::{
    DnsError, DnssecStatus, Error, MX, MessageAuthenticator, Parameters, RecordSet, ResolverCache,
    SpfResult, Txt,
};
use spfgate::dns::{Answer, QueryType, Rdata};

use crate::viaspf_run::reverse_name;
use crate::{FnvMap, Scenario, block_on};

/// Parses one record; true when it parsed.
pub fn parse(text: &str) -> bool {
    Spf::parse(text.as_bytes()).is_ok()
}

/// A resolver that is never asked: the `test` feature keeps every lookup in memory.
pub fn authenticator() -> MessageAuthenticator {
    MessageAuthenticator::new_cloudflare().expect("resolver configuration")
}

/// One record type of a zone, keyed as mail-auth asks (lower case, final dot); each
/// `get` builds a fresh value, TXT records parsed from their text.
pub struct Memory<K, V, F> {
    map: FnvMap<K, V>,
    build: F,
}

impl<K: Hash + Eq, V, T, F: Fn(&V) -> T> ResolverCache<K, T> for Memory<K, V, F> {
    fn get<Q>(&self, name: &Q) -> Option<T>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(name).map(&self.build)
    }

    fn remove<Q>(&self, _: &Q) -> Option<T>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: K, _: T, _: Instant) {}
}

type Cache<K, V, T> = Memory<K, V, fn(&V) -> T>;

/// MX exchanges with their preferences, sorted.
type Exchanges = Vec<(u16, Box<str>)>;

/// A scenario's zone as mail-auth's five caches.
pub struct Zone {
    txt: Cache<Box<str>, Result<Vec<Vec<u8>>, String>, Txt>,
    mx: Cache<Box<str>, Exchanges, RecordSet<MX>>,
    a: Cache<Box<str>, Vec<Ipv4Addr>, RecordSet<Ipv4Addr>>,
    aaaa: Cache<Box<str>, Vec<Ipv6Addr>, RecordSet<Ipv6Addr>>,
    ptr: Cache<IpAddr, Vec<Box<str>>, RecordSet<Box<str>>>,
}

fn set<T: Clone>(items: &[T]) -> RecordSet<T> {
    RecordSet {
        rrset: items.into(),
        dnssec_status: DnssecStatus::Indeterminate,
    }
}

fn parse_txt(records: &Result<Vec<Vec<u8>>, String>) -> Txt {
    let records = match records {
        Ok(records) => records,
        Err(reason) => return Txt::Error(Error::Dns(DnsError::Resolver(reason.clone()))),
    };
    if records
        .iter()
        .any(|r| r.len() >= 6 && r[..6].eq_ignore_ascii_case(b"v=spf1"))
    {
        // As mail-auth's resolver does: the first record that parses, else the last error.
        let mut result = Err(Error::Dns(DnsError::InvalidRecordType));
        for record in records {
            result = Spf::parse(record);
            if result.is_ok() {
                break;
            }
        }
        return result.into();
    }
    match records.first() {
        Some(text) => Macro::parse(text).into(),
        None => Txt::Error(Error::Dns(DnsError::InvalidRecordType)),
    }
}

#[allow(clippy::ptr_arg)] // the cache's builder takes the stored value by reference.
fn mx_set(records: &Exchanges) -> RecordSet<MX> {
    let mxs: Vec<MX> = records
        .iter()
        .map(|(preference, exchange)| MX {
            exchanges: vec![exchange.clone()].into_boxed_slice(),
            preference: *preference,
        })
        .collect();
    set(&mxs)
}

impl Zone {
    /// Sorts a scenario's answers into the caches.
    pub fn new(s: &Scenario) -> Self {
        let mut zone = Zone {
            txt: Memory {
                map: FnvMap::default(),
                build: parse_txt,
            },
            mx: Memory {
                map: FnvMap::default(),
                build: mx_set,
            },
            a: Memory {
                map: FnvMap::default(),
                build: |v| set(v),
            },
            aaaa: Memory {
                map: FnvMap::default(),
                build: |v| set(v),
            },
            ptr: Memory {
                map: FnvMap::default(),
                build: |v| set(v),
            },
        };
        for ((qtype, name), answer) in s.answers.iter() {
            let key: Box<str> = format!("{name}.").into();
            let rs = match answer {
                Answer::Records(rs) if !rs.is_empty() => rs,
                Answer::TempFail(reason) if qtype == QueryType::Txt => {
                    zone.txt.map.insert(key, Err(reason.clone()));
                    continue;
                }
                _ => continue,
            };
            match qtype {
                QueryType::Txt => {
                    let txts = rs.iter().filter_map(|r| match r {
                        Rdata::Txt(t) => Some(t.clone()),
                        _ => None,
                    });
                    zone.txt.map.insert(key, Ok(txts.collect()));
                }
                QueryType::Mx => {
                    let mut mxs: Exchanges = rs
                        .iter()
                        .filter_map(|r| match r {
                            Rdata::Mx {
                                preference,
                                exchange,
                            } => Some((*preference, format!("{exchange}.").into())),
                            _ => None,
                        })
                        .collect();
                    mxs.sort();
                    zone.mx.map.insert(key, mxs);
                }
                QueryType::A => {
                    let ips = rs.iter().filter_map(|r| match r {
                        Rdata::A(a) => Some(*a),
                        _ => None,
                    });
                    zone.a.map.insert(key, ips.collect());
                }
                QueryType::Aaaa => {
                    let ips = rs.iter().filter_map(|r| match r {
                        Rdata::Aaaa(a) => Some(*a),
                        _ => None,
                    });
                    zone.aaaa.map.insert(key, ips.collect());
                }
                _ => {}
            }
        }
        if let Answer::Records(rs) = s.answers.get(QueryType::Ptr, &reverse_name(s.ip)) {
            let names = rs.into_iter().filter_map(|r| match r {
                Rdata::Ptr(p) => Some(format!("{p}.").into()),
                _ => None,
            });
            zone.ptr.map.insert(s.ip, names.collect());
        }
        zone
    }
}

/// Evaluates a scenario's MAIL FROM identity; returns the result name.
pub fn evaluate(s: &Scenario, zone: &Zone, authenticator: &MessageAuthenticator) -> &'static str {
    let domain = match s.mail_from.rsplit_once('@') {
        Some((_, domain)) => domain,
        None if !s.mail_from.is_empty() => &s.mail_from,
        None => &s.helo,
    };
    let params = Parameters::new(SpfParameters::new(
        s.ip,
        domain,
        &s.helo,
        "receiver.example",
        &s.mail_from,
    ))
    .with_txt_cache(&zone.txt)
    .with_mx_cache(&zone.mx)
    .with_ipv4_cache(&zone.a)
    .with_ipv6_cache(&zone.aaaa)
    .with_ptr_cache(&zone.ptr);
    match block_on(authenticator.check_host(params)).result() {
        SpfResult::None => "none",
        SpfResult::Neutral => "neutral",
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
    }
}
