//! viaspf: its `Lookup` trait answered from memory.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;
use spfgate::dns::{Answer, QueryType, Rdata};
use viaspf::lookup::{Lookup, LookupError, LookupResult, Name};
use viaspf::record::SpfRecord;
use viaspf::{Config, DomainName, Sender, SpfResult};

use crate::{Answers, Scenario, block_on};

/// Parses one record; true when it parsed.
pub fn parse(text: &str) -> bool {
    text.parse::<SpfRecord>().is_ok()
}

/// The configuration every evaluation uses (viaspf's defaults).
pub fn config() -> Config {
    Config::default()
}

struct Memory<'a>(&'a Answers);

impl Memory<'_> {
    fn records<T>(
        &self,
        qtype: QueryType,
        name: &str,
        pick: impl Fn(Rdata) -> Option<T>,
    ) -> LookupResult<Vec<T>> {
        match self.0.get(qtype, name) {
            Answer::Records(rs) => Ok(rs.into_iter().filter_map(pick).collect()),
            Answer::NxDomain => Err(LookupError::NoRecords),
            Answer::TempFail(_) => Err(LookupError::Timeout),
        }
    }
}

#[async_trait]
impl Lookup for Memory<'_> {
    async fn lookup_a<'lookup, 'a>(&'lookup self, name: &'a Name) -> LookupResult<Vec<Ipv4Addr>> {
        self.records(QueryType::A, name.as_str(), |r| match r {
            Rdata::A(a) => Some(a),
            _ => None,
        })
    }

    async fn lookup_aaaa<'lookup, 'a>(
        &'lookup self,
        name: &'a Name,
    ) -> LookupResult<Vec<Ipv6Addr>> {
        self.records(QueryType::Aaaa, name.as_str(), |r| match r {
            Rdata::Aaaa(a) => Some(a),
            _ => None,
        })
    }

    async fn lookup_mx<'lookup, 'a>(&'lookup self, name: &'a Name) -> LookupResult<Vec<Name>> {
        self.records(QueryType::Mx, name.as_str(), |r| match r {
            Rdata::Mx { exchange, .. } => Name::new(&exchange).ok(),
            _ => None,
        })
    }

    async fn lookup_txt<'lookup, 'a>(&'lookup self, name: &'a Name) -> LookupResult<Vec<String>> {
        self.records(QueryType::Txt, name.as_str(), |r| match r {
            Rdata::Txt(t) => Some(String::from_utf8_lossy(&t).into_owned()),
            _ => None,
        })
    }

    async fn lookup_ptr<'lookup>(&'lookup self, ip: IpAddr) -> LookupResult<Vec<Name>> {
        self.records(QueryType::Ptr, &reverse_name(ip), |r| match r {
            Rdata::Ptr(p) => Name::new(&p).ok(),
            _ => None,
        })
    }
}

/// `in-addr.arpa` / `ip6.arpa` name of an address.
pub(crate) fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// Evaluates a scenario; returns the result name.
pub fn evaluate(s: &Scenario, config: &Config) -> &'static str {
    let sender = if s.mail_from.is_empty() {
        Sender::from_domain(&s.helo)
    } else {
        Sender::new(&s.mail_from)
    };
    let Ok(sender) = sender else {
        return "none";
    };
    let helo = s.helo.parse::<DomainName>().ok();
    let result = block_on(viaspf::evaluate_sender(
        &Memory(&s.answers),
        config,
        s.ip,
        &sender,
        helo.as_ref(),
    ));
    match result.spf_result {
        SpfResult::None => "none",
        SpfResult::Neutral => "neutral",
        SpfResult::Pass => "pass",
        SpfResult::Fail(_) => "fail",
        SpfResult::Softfail => "softfail",
        SpfResult::Temperror => "temperror",
        SpfResult::Permerror => "permerror",
    }
}
