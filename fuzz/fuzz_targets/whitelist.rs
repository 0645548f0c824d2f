//! Arbitrary text as an account's IP whitelist: parsing never panics and stays within
//! its bounds, every accepted entry re-parses on its own to the same networks, the
//! canonical text of an accepted list parses back to the same networks, and the
//! compiled matcher agrees with a linear scan at the edges of every network.
#![no_main]

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};
use libfuzzer_sys::fuzz_target;
use spfgate::policy::matcher::IpMatcher;
use spfgate::policy::whitelist::{
    MAX_DIAGNOSTICS, MAX_NETWORKS, parse_whitelist, parse_whitelist_lines, parse_whitelist_strict,
};

/// How the matcher reads a network: IPv4-mapped IPv6 networks as IPv4.
fn effective(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        _ => net,
    }
}

/// Whether `net` contains `ip` as the matcher sees it (mapped clients also match IPv4).
fn covers(net: IpNet, ip: IpAddr) -> bool {
    let net = effective(net);
    net.contains(&ip)
        || matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| net.contains(&IpAddr::V4(v4))))
}

/// The first and last address of a network and their outside neighbours.
fn edges(net: IpNet) -> Vec<IpAddr> {
    match net {
        IpNet::V4(n) => {
            let (first, last) = (u32::from(n.network()), u32::from(n.broadcast()));
            [
                Some(first),
                Some(last),
                first.checked_sub(1),
                last.checked_add(1),
            ]
            .into_iter()
            .flatten()
            .map(|a| IpAddr::from(a.to_be_bytes()))
            .collect()
        }
        IpNet::V6(n) => {
            let (first, last) = (u128::from(n.network()), u128::from(n.broadcast()));
            [
                Some(first),
                Some(last),
                first.checked_sub(1),
                last.checked_add(1),
            ]
            .into_iter()
            .flatten()
            .map(|a| IpAddr::from(a.to_be_bytes()))
            .collect()
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let report = parse_whitelist(&text);
    assert!(report.errors.len() <= MAX_DIAGNOSTICS && report.warnings.len() <= MAX_DIAGNOSTICS);
    let networks: Vec<IpNet> = report.networks().collect();
    assert!(networks.len() <= MAX_NETWORKS);
    for error in &report.errors {
        let _ = error.to_string();
    }
    for entry in &report.entries {
        assert_eq!(
            text.get(entry.span.clone()),
            Some(entry.text.as_str()),
            "entry span"
        );
        let alone = parse_whitelist(&entry.text);
        assert!(
            alone.is_ok(),
            "entry {:?} alone: {:?}",
            entry.text,
            alone.errors
        );
        assert_eq!(alone.entries.len(), 1, "entry {:?} alone", entry.text);
        assert_eq!(
            alone.entries[0].networks, entry.networks,
            "entry {:?} alone",
            entry.text
        );
    }
    let lines: Vec<&str> = text.lines().collect();
    let _ = parse_whitelist_lines(&lines);

    let matcher = IpMatcher::new(networks.iter().copied());
    for &net in &networks {
        for ip in edges(net) {
            let found = matcher.find(ip);
            let expected = networks.iter().any(|&n| covers(n, ip));
            assert_eq!(found.is_some(), expected, "{ip} against {networks:?}");
            if let Some(i) = found {
                assert!(covers(networks[i], ip), "{ip} reported in {}", networks[i]);
            }
        }
    }

    if let Ok(list) = report.into_whitelist() {
        let canonical = list.to_string();
        let again = parse_whitelist_strict(&canonical)
            .unwrap_or_else(|e| panic!("canonical text {canonical:?} rejected: {e}"));
        assert!(
            again.networks().eq(list.networks()),
            "canonical text {canonical:?} parses to other networks"
        );
    }
});
