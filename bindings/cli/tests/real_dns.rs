//! `spfgate check --server` against a real authoritative server gives what
//! `spfgate check --zone` gives on the same data.
//!
//! Each scenario of the RFC 7208 suite is written as a master file for the
//! root zone ([`spfgate_cli::zonefile`]), checked with `nsd-checkzone` and
//! served by NSD on 127.0.0.1 (`tests/dns-server/start-nsd.sh`); then every
//! test of the scenario runs through the built binary twice, once per source,
//! and the result, explanation and mechanism must agree. That covers what the
//! in-memory suite run cannot: real DNS messages from a server written by
//! others, the UDP/TCP resolver, CNAMEs as servers send them, and the CLI.
//!
//! NSD must be installed: the project's test command installs it. Without it
//! these tests fail rather than pass having tested nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use spfgate::eval::{Config, Evaluator, Request, Step};
use spfgate::zone::Zone;
use spfgate_cli::zonefile::master_file;

/// Suite tests not compared, each with the name that keeps it out: the
/// master file cannot serve that name as the in-memory zone does. The
/// in-memory suite run (`core/tests/suite.rs`) covers these tests. The test
/// checks this list against what it finds, so it stays true.
const EXCLUDED: &[(&str, &str)] = &[
    // Names listing TIMEOUT: a server that answers cannot time out.
    ("alltimeout", "alltimeout.example.net"),
    ("exists-dnserr", "err.example.com"),
    ("exp-dns-error", "e21msg.example.com"),
    ("include-temperror", "ip8.example.com"),
    ("nospftxttimeout", "nospftxttimeout.example.net"),
    ("spftimeout", "spftimeout.example.net"),
    ("txttimeout", "txttimeout.example.net"),
    // The same SPF record twice: DNS keeps one copy (the suite itself notes
    // that live DNS cannot reliably reproduce this test).
    ("multispf1", "example7.com"),
];

/// The explanation both runs use, as the suite's drivers do.
const DEFAULT_EXPLANATION: &str = "DEFAULT";

/// Scenarios served at once: each NSD spends most of its life waiting on the
/// checks or on its own shutdown, so a few overlap well even on 2 cores.
const WORKERS: usize = 3;

/// The `tests/dns-server` scripts.
fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/dns-server")
}

/// Fails the test, with what to do, when NSD is not installed. The scripts
/// would install it, but a test that changes the machine as a side effect
/// is a surprise; the project's test command does it up front instead.
fn require_nsd() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .collect();
    for tool in ["nsd", "nsd-checkzone"] {
        assert!(
            dirs.iter().any(|d| d.join(tool).is_file()),
            "`{tool}` is not installed: these tests need NSD as a real DNS server. Run the \
             project's test command, which installs it (or `apt-get install nsd`), then \
             `cargo test -p spfgate-cli --test real_dns`."
        );
    }
}

/// A scratch directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "spfgate-real-dns-{}-{label}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// NSD serving one zone; stopped when dropped, so also when a test panics.
struct Nsd {
    port: u16,
    state: PathBuf,
}

impl Nsd {
    /// Writes `zone` as `root.zone` in `dir` and serves it on a free port.
    /// Also reports the names the master file had to leave out, with why.
    fn serve(zone: &Zone, dir: &Path) -> (Nsd, BTreeMap<String, String>) {
        let file = master_file(zone);
        let zones = dir.join("zones");
        std::fs::create_dir_all(&zones).expect("create the zone directory");
        std::fs::write(zones.join("root.zone"), &file.text).expect("write the zone file");
        let unservable = file
            .unservable
            .into_iter()
            .map(|u| (u.name, u.reason))
            .collect();
        // The port is free when picked but another process may take it before
        // NSD binds it: then try another.
        let mut failures = Vec::new();
        for _ in 0..5 {
            let port = free_port();
            let state = dir.join(format!("nsd-{port}"));
            let out = Command::new(scripts().join("start-nsd.sh"))
                .arg(&zones)
                .arg(port.to_string())
                .env("SPFGATE_NSD_STATE", &state)
                .output()
                .expect("run start-nsd.sh");
            if out.status.success() {
                return (Nsd { port, state }, unservable);
            }
            failures.push(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        panic!(
            "NSD did not start; zone file:\n{}\nerrors:\n{}",
            file.text,
            failures.join("\n")
        );
    }

    fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        let stopped = Command::new(scripts().join("stop-nsd.sh"))
            .arg(self.port.to_string())
            .env("SPFGATE_NSD_STATE", &self.state)
            .status();
        if !matches!(stopped, Ok(s) if s.success()) {
            eprintln!("stop-nsd.sh {} failed: {stopped:?}", self.port);
        }
    }
}

/// A port free for both UDP and TCP on 127.0.0.1, where NSD listens on both.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a UDP socket");
        let port = udp.local_addr().expect("local address").port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// One test of a scenario.
struct Case {
    name: String,
    ip: String,
    mail_from: String,
    helo: String,
    results: Vec<String>,
    explanation: Option<String>,
}

/// One scenario: its zone as the suite gives it, and its tests.
struct Scenario {
    description: String,
    zonedata: Value,
    cases: Vec<Case>,
}

fn load_suite() -> Vec<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/spf-test-suite/rfc7208-tests.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the test suite at {}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let doc: Value = serde::Deserialize::deserialize(doc).expect("suite YAML parses");
            let cases = doc["tests"]
                .as_object()
                .expect("tests map")
                .iter()
                .map(|(name, t)| {
                    let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
                    let results = match &t["result"] {
                        Value::Array(rs) => rs
                            .iter()
                            .filter_map(|r| r.as_str().map(str::to_owned))
                            .collect(),
                        r => vec![r.as_str().expect("result is a string").to_owned()],
                    };
                    Case {
                        name: name.clone(),
                        ip: s("host"),
                        mail_from: s("mailfrom"),
                        helo: s("helo"),
                        results,
                        explanation: t["explanation"].as_str().map(str::to_owned),
                    }
                })
                .collect();
            let zonedata = match &doc["zonedata"] {
                Value::Null => json!({}),
                z => z.clone(),
            };
            Scenario {
                description: doc["description"].as_str().unwrap_or_default().to_owned(),
                zonedata,
                cases,
            }
        })
        .collect()
}

/// Every name `case` makes the engine look up, answering from `zone` with the
/// configuration `spfgate check` uses.
fn queried_names(zone: &Zone, case: &Case) -> BTreeSet<String> {
    let ip = case.ip.parse().expect("suite host is an IP address");
    let config = Config {
        default_explanation: Some(DEFAULT_EXPLANATION.into()),
        ..Config::default()
    };
    let mut evaluator = Evaluator::new(Request::new(ip, &case.mail_from, &case.helo), config);
    let mut names = BTreeSet::new();
    loop {
        let batch = match evaluator.poll() {
            Step::Done(_) => return names,
            Step::Lookups(batch) => batch,
            Step::Pending => panic!("every lookup was answered"),
        };
        for lookup in batch {
            names.insert(lookup.name.trim_end_matches('.').to_ascii_lowercase());
            let answer = zone.resolve(&lookup);
            evaluator
                .answer(lookup.id, answer)
                .expect("answering a handed-out lookup");
        }
    }
}

/// What one `spfgate check` run printed.
struct Checked {
    json: Value,
    stderr: String,
}

impl Checked {
    fn get(&self, key: &str) -> &Value {
        &self.json[key]
    }

    /// The fields both sources must agree on.
    fn verdict(&self) -> (&Value, &Value, &Value) {
        (
            self.get("result"),
            self.get("explanation"),
            self.get("mechanism"),
        )
    }
}

/// Runs `spfgate check` for `case` with the DNS flags `source`.
fn check(case: &Case, source: &[&str]) -> Checked {
    let out = Command::new(env!("CARGO_BIN_EXE_spfgate"))
        .args(["check", "--ip", &case.ip])
        // `=` so that values starting with `-` or empty stay values.
        .arg(format!("--mail-from={}", case.mail_from))
        .arg(format!("--helo={}", case.helo))
        .args(["--default-explanation", DEFAULT_EXPLANATION])
        .args(["--format", "json"])
        .args(source)
        .output()
        .expect("run spfgate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "spfgate check {source:?} for {}: {}\n{stderr}",
        case.name,
        out.status
    );
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("spfgate printed no JSON ({e}):\n{stdout}\n{stderr}"));
    Checked { json, stderr }
}

/// Runs `case` against both sources, each with the flags `extra` too, and
/// returns the server's run; `Err` says how they differ.
fn compare(case: &Case, zone_file: &Path, nsd: &Nsd, extra: &[&str]) -> Result<Checked, String> {
    let zone_file = zone_file.to_str().expect("temporary paths are UTF-8");
    let server = nsd.server();
    let from_zone = check(case, &[&["--zone", zone_file], extra].concat());
    let from_server = check(
        case,
        &[&["--server", &server, "--timeout", "1", "--trace"], extra].concat(),
    );
    if from_zone.verdict() != from_server.verdict() {
        return Err(format!(
            "{}: --zone gave {:?}, --server gave {:?}\nserver trace:\n{}",
            case.name,
            from_zone.verdict(),
            from_server.verdict(),
            from_server.stderr
        ));
    }
    let result = from_server.get("result").as_str().unwrap_or_default();
    if !case.results.iter().any(|r| r == result) {
        return Err(format!(
            "{}: result {result}, the suite allows {:?}",
            case.name, case.results
        ));
    }
    if let Some(want) = &case.explanation
        && from_server.get("explanation").as_str() != Some(want.as_str())
    {
        return Err(format!(
            "{}: explanation {}, the suite expects {want:?}",
            case.name,
            from_server.get("explanation")
        ));
    }
    Ok(from_server)
}

/// What running one scenario found.
#[derive(Default)]
struct Tally {
    compared: usize,
    /// `(test, the names that keep it out, each with why)`.
    excluded: Vec<(String, Vec<(String, String)>)>,
    failures: Vec<String>,
}

fn run_scenario(scenario: &Scenario, tally: &Mutex<Tally>) {
    let zone = Zone::from_value(&scenario.zonedata).expect("zonedata has the suite's shape");
    let dir = TempDir::new("suite");
    let zone_json = dir.0.join("zone.json");
    std::fs::write(&zone_json, scenario.zonedata.to_string()).expect("write the zone JSON");
    let (nsd, unservable) = Nsd::serve(&zone, &dir.0);
    for case in &scenario.cases {
        let blocked: Vec<(String, String)> = queried_names(&zone, case)
            .into_iter()
            .filter_map(|name| {
                let reason = unservable.get(&name)?.clone();
                Some((name, reason))
            })
            .collect();
        let outcome = if blocked.is_empty() {
            Some(compare(case, &zone_json, &nsd, &[]))
        } else {
            None
        };
        let mut tally = tally.lock().expect("tally lock");
        match outcome {
            None => tally.excluded.push((case.name.clone(), blocked)),
            Some(Ok(_)) => tally.compared += 1,
            Some(Err(why)) => tally
                .failures
                .push(format!("{} / {why}", scenario.description)),
        }
    }
}

#[test]
fn rfc7208_suite_gives_the_same_results_from_nsd_as_from_the_zone() {
    require_nsd();
    let scenarios = load_suite();
    let total: usize = scenarios.iter().map(|s| s.cases.len()).sum();
    let tally = Mutex::new(Tally::default());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(scenario) = scenarios.get(next.fetch_add(1, Ordering::Relaxed)) {
                    run_scenario(scenario, &tally);
                }
            });
        }
    });
    let mut tally = tally.into_inner().expect("tally lock");
    tally.excluded.sort();
    println!(
        "real DNS: {} of {total} suite tests compared, {} excluded:",
        tally.compared,
        tally.excluded.len()
    );
    for (test, blocked) in &tally.excluded {
        for (name, reason) in blocked {
            println!("  excluded {test}: looks up {name}: {reason}");
        }
    }
    assert!(
        tally.failures.is_empty(),
        "{} test(s) differ:\n{}",
        tally.failures.len(),
        tally.failures.join("\n\n")
    );
    let excluded: Vec<(&str, &str)> = tally
        .excluded
        .iter()
        .flat_map(|(test, blocked)| {
            blocked
                .iter()
                .map(|(name, _)| (test.as_str(), name.as_str()))
        })
        .collect();
    let mut expected = EXCLUDED.to_vec();
    expected.sort_unstable();
    assert_eq!(excluded, expected, "EXCLUDED is out of date");
    assert_eq!(tally.compared + tally.excluded.len(), total);
}

/// A zone of our own, served by NSD and written as JSON for `--zone`.
struct Served {
    zone_json: PathBuf,
    nsd: Nsd,
    // Last: NSD stops before its files go.
    _dir: TempDir,
}

impl Served {
    fn new(label: &str, zonedata: &Value) -> Self {
        let dir = TempDir::new(label);
        let zone = Zone::from_value(zonedata).expect("test zone has the suite's shape");
        let zone_json = dir.0.join("zone.json");
        std::fs::write(&zone_json, zonedata.to_string()).expect("write the zone JSON");
        let (nsd, unservable) = Nsd::serve(&zone, &dir.0);
        assert!(unservable.is_empty(), "unservable: {unservable:?}");
        Served {
            zone_json,
            nsd,
            _dir: dir,
        }
    }

    /// Checks `ip` / `mail_from` against both sources (with `extra` flags):
    /// they must agree and give `result`. Returns the server's run.
    fn agree(&self, ip: &str, mail_from: &str, result: &str, extra: &[&str]) -> Checked {
        let case = Case {
            name: format!("{mail_from} from {ip}"),
            ip: ip.to_owned(),
            mail_from: mail_from.to_owned(),
            helo: "helo.test".to_owned(),
            results: vec![result.to_owned()],
            explanation: None,
        };
        match compare(&case, &self.zone_json, &self.nsd, extra) {
            Ok(from_server) => from_server,
            Err(why) => panic!("{why}"),
        }
    }
}

/// `v=spf1` with `count` `ip4:` terms, none of which matches 198.51.100.0/24,
/// then `tail`.
fn long_record(count: u8, tail: &str) -> String {
    let terms: String = (0..count).map(|i| format!(" ip4:192.0.2.{i}")).collect();
    format!("v=spf1{terms} {tail}")
}

#[test]
fn long_records_nxdomain_and_cname_chains_match_the_zone() {
    require_nsd();
    // 1 600 bytes: over 512, and over the 1 232-byte EDNS buffer the resolver
    // offers, so NSD truncates the UDP answer and the resolver must use TCP.
    let big = long_record(100, "ip4:198.51.100.7 -all");
    assert!(big.len() > 1232, "{} bytes", big.len());
    let served = Served::new(
        "edges",
        &json!({
            "big.test": [{"SPF": big}],
            "include-nx.test": [{"SPF": "v=spf1 include:nowhere.test -all"}],
            "a-nx.test": [{"SPF": "v=spf1 a:nowhere.test -all"}],
            "alias1.test": [{"CNAME": "alias2.test"}],
            "alias2.test": [{"CNAME": "target.test"}],
            "target.test": [{"SPF": "v=spf1 a:host.test -all"}],
            "host.test": [{"CNAME": "hostaddr.test"}],
            "hostaddr.test": [{"A": "198.51.100.10"}],
            "dangling.test": [{"CNAME": "nowhere.test"}],
            "loop1.test": [{"CNAME": "loop2.test"}],
            "loop2.test": [{"CNAME": "loop1.test"}],
        }),
    );

    let tcp = served.agree("198.51.100.7", "a@big.test", "pass", &[]);
    assert_eq!(tcp.get("mechanism"), "ip4:198.51.100.7");
    assert!(
        tcp.stderr.contains("TXT -> ") && tcp.stderr.contains(" tcp 127.0.0.1:"),
        "the long record did not come over TCP:\n{}",
        tcp.stderr
    );
    served.agree("198.51.100.8", "a@big.test", "fail", &[]);

    // NXDOMAIN: no record at all, an include of nothing, an `a` of nothing.
    let nx = served.agree("198.51.100.7", "a@nowhere.test", "none", &[]);
    assert!(nx.stderr.contains("-> NXDOMAIN"), "{}", nx.stderr);
    served.agree("198.51.100.7", "a@include-nx.test", "permerror", &[]);
    served.agree("198.51.100.7", "a@a-nx.test", "fail", &[]);

    // CNAME chains, for the record and for the `a` target; a CNAME to
    // nowhere; a CNAME loop.
    let chain = served.agree("198.51.100.10", "a@alias1.test", "pass", &[]);
    assert_eq!(chain.get("mechanism"), "a:host.test");
    served.agree("198.51.100.11", "a@alias1.test", "fail", &[]);
    served.agree("198.51.100.10", "a@dangling.test", "none", &[]);
    served.agree("198.51.100.10", "a@loop1.test", "temperror", &[]);
}

#[test]
fn prefetch_needs_fewer_round_trips_on_an_include_chain() {
    require_nsd();
    // A top record with four sibling includes, each including one more
    // level: 9 records, 8 DNS-querying terms, within the limit of 10.
    let mut zonedata = json!({
        "top.test": [{"SPF": "v=spf1 include:a.l1.test include:b.l1.test \
                                 include:c.l1.test include:d.l1.test -all"}],
    });
    for (n, branch) in ["a", "b", "c", "d"].into_iter().enumerate() {
        zonedata[format!("{branch}.l1.test")] =
            json!([{"SPF": format!("v=spf1 include:{branch}.l2.test -all")}]);
        zonedata[format!("{branch}.l2.test")] =
            json!([{"SPF": format!("v=spf1 ip4:192.0.2.{n} -all")}]);
    }
    let served = Served::new("prefetch", &zonedata);
    let round_trips = |extra: &[&str]| {
        let run = served.agree("198.51.100.1", "a@top.test", "fail", extra);
        assert_eq!(run.get("queries"), 9, "{}", run.stderr);
        run.get("round_trips").as_u64().expect("round_trips")
    };
    let with = round_trips(&[]);
    let without = round_trips(&["--no-prefetch"]);
    println!("include chain over NSD: {with} round trips with prefetch, {without} without");
    assert!(
        with < without,
        "{with} round trips with prefetch, {without} without"
    );
    // A match in the last branch: the same answer either way.
    served.agree("192.0.2.3", "a@top.test", "pass", &[]);
    served.agree("192.0.2.3", "a@top.test", "pass", &["--no-prefetch"]);
}

#[test]
fn a_server_that_never_answers_gives_temperror() {
    // Bound, so nothing else answers on the port either, and never read.
    let silent = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a UDP socket");
    let server = silent.local_addr().expect("local address").to_string();
    let case = Case {
        name: "silent server".into(),
        ip: "192.0.2.1".into(),
        mail_from: "a@example.test".into(),
        helo: "helo.test".into(),
        results: vec!["temperror".into()],
        explanation: None,
    };
    let started = std::time::Instant::now();
    let run = check(&case, &["--server", &server, "--timeout", "0.3"]);
    assert_eq!(run.get("result"), "temperror", "{}", run.json);
    assert!(
        started.elapsed().as_secs_f64() < 5.0,
        "{:?}",
        started.elapsed()
    );
}
