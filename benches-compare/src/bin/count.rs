//! Runs one workload of one library N times, for instruction counts under
//! `valgrind --tool=callgrind` (repeatable where wall-clock times are not), and checks
//! how many suite results agree with the suite's expectations.
//!
//! `count WORKLOAD LIBRARY N` with WORKLOAD `short`, `ip6` (a record of many `ip6:`
//! networks), `corpus`, `suite` or `agree` and LIBRARY `spfgate`, `spfgate-restarted`
//! (one evaluator restarted for every scenario; parsing as `spfgate`), `mail-auth` or
//! `viaspf`.

use std::hint::black_box;

use spfgate_benches_compare::{
    IP6_HEAVY, SHORT, corpus, mail_auth_run, spfgate_run, suite, viaspf_run,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, workload, library, n] = &args[..] else {
        panic!(
            "usage: count short|ip6|corpus|suite|agree spfgate|spfgate-restarted|mail-auth|viaspf N"
        );
    };
    let n: usize = n.parse().expect("N");
    let parse: fn(&str) -> bool = match library.as_str() {
        "spfgate" | "spfgate-restarted" => spfgate_run::parse,
        "mail-auth" => mail_auth_run::parse,
        "viaspf" => viaspf_run::parse,
        other => panic!("unknown library {other}"),
    };
    match workload.as_str() {
        "short" => {
            for _ in 0..n {
                black_box(parse(black_box(SHORT)));
            }
        }
        "ip6" => {
            for _ in 0..n {
                black_box(parse(black_box(IP6_HEAVY)));
            }
        }
        "corpus" => {
            let records = corpus();
            for _ in 0..n {
                for r in &records {
                    black_box(parse(black_box(r)));
                }
            }
        }
        "suite" | "agree" => {
            let scenarios = suite();
            let zones: Vec<_> = scenarios.iter().map(mail_auth_run::Zone::new).collect();
            let authenticator = mail_auth_run::authenticator();
            let (spfgate_config, viaspf_config) = (spfgate_run::config(), viaspf_run::config());
            let mut kept = spfgate_run::evaluator(&spfgate_config);
            let mut agree = 0;
            for _ in 0..n {
                agree = 0;
                for (s, zone) in scenarios.iter().zip(&zones) {
                    let result = match library.as_str() {
                        "spfgate" => spfgate_run::evaluate(s, &spfgate_config),
                        "spfgate-restarted" => spfgate_run::evaluate_restarted(s, &mut kept),
                        "mail-auth" => mail_auth_run::evaluate(s, zone, &authenticator),
                        _ => viaspf_run::evaluate(s, &viaspf_config),
                    };
                    if s.expected.iter().any(|e| e == result) {
                        agree += 1;
                    } else if workload == "agree" {
                        println!("{}: {result}, expected {:?}", s.name, s.expected);
                    }
                }
            }
            if workload == "agree" {
                println!(
                    "{library}: {agree} of {} suite results as expected",
                    scenarios.len()
                );
            }
        }
        other => panic!("unknown workload {other}"),
    }
}
