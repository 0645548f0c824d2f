//! Live DNS for the `spfgate` CLI: a small stub resolver over UDP, with TCP
//! when an answer is truncated.
//!
//! It uses std sockets and one thread per lookup instead of an async runtime.
//! The evaluator hands out a batch of at most a couple of dozen lookups at a
//! time and waits for all of them, so a scoped thread per lookup, each with
//! its own socket and blocking reads bounded by a deadline, keeps every query
//! of the batch in flight at once with no dependency and no event loop. Each
//! lookup's own socket also gets its own random source port from the kernel,
//! which together with the random message id makes forged replies harder.
//!
//! Encoding, and every check on a reply (message id, question, TC bit), is
//! done by [`spfgate::dns::wire`]; this module only moves bytes.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use spfgate::dns::wire::{WireError, decode_response, encode_query};
use spfgate::dns::{Answer, Lookup, LookupId};

/// The port DNS servers listen on.
pub const DNS_PORT: u16 = 53;

/// glibc reads at most this many `nameserver` lines (its `MAXNS`); we match it
/// so the CLI asks the same servers as the system would.
const MAX_SYSTEM_SERVERS: usize = 3;

/// The largest DNS message; a UDP reply is read whole into a buffer this size.
const MAX_MESSAGE: usize = 65_535;

/// How the resolver reaches its servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// Recursive servers to ask, in order. Empty: the `nameserver` lines of
    /// `/etc/resolv.conf`, or `127.0.0.1:53` when it has none (as glibc does).
    pub servers: Vec<SocketAddr>,
    /// How long one UDP try, or the TCP exchange after a truncated answer, may
    /// take.
    pub timeout: Duration,
    /// UDP tries per lookup, each sent to the next server in turn; 0 counts
    /// as 1.
    pub attempts: u32,
}

impl Default for ResolverConfig {
    /// The system's servers, 2 seconds per try, 2 tries: glibc's attempts with a
    /// shorter timeout, since an SPF check usually runs while a mail client
    /// waits.
    fn default() -> Self {
        ResolverConfig {
            servers: Vec::new(),
            timeout: Duration::from_secs(2),
            attempts: 2,
        }
    }
}

/// Which transport carried the final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (also when every try timed out).
    Udp,
    /// TCP, after a truncated UDP answer.
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        })
    }
}

/// The outcome of one lookup, with what `--trace` shows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The lookup this answers.
    pub id: LookupId,
    /// What to hand back to the evaluator.
    pub answer: Answer,
    /// From the first query sent to the answer, retries included.
    pub latency: Duration,
    /// The server that answered, or the last one tried.
    pub server: SocketAddr,
    /// How the answer came.
    pub transport: Transport,
}

/// A stub resolver: asks recursive servers, follows nothing itself.
#[derive(Debug)]
pub struct Resolver {
    /// Never empty ([`Resolver::new`] falls back to the system's servers).
    servers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: u32,
    ids: XorShift,
}

impl Resolver {
    /// A resolver for `config`; reads `/etc/resolv.conf` when it names no server.
    pub fn new(config: ResolverConfig) -> Self {
        let mut servers = config.servers;
        if servers.is_empty() {
            servers = system_servers();
        }
        Resolver {
            servers,
            timeout: config.timeout,
            attempts: config.attempts.max(1),
            ids: XorShift::from_entropy(),
        }
    }

    /// The servers asked, first one first.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// Resolves every lookup of `batch` concurrently and returns one
    /// [`Resolved`] per lookup, in batch order.
    ///
    /// Never fails: a server that stays silent for all tries gives
    /// `Answer::TempFail("timeout")`, a network or message error another
    /// `TempFail` naming it.
    pub fn resolve_batch(&mut self, batch: &[Lookup]) -> Vec<Resolved> {
        let seeds: Vec<u64> = batch.iter().map(|_| self.ids.next()).collect();
        let this = &*self;
        thread::scope(|scope| {
            let handles: Vec<_> = batch
                .iter()
                .zip(seeds)
                .map(|(lookup, seed)| {
                    let spawned = thread::Builder::new()
                        .name(format!("dns {}", lookup.id))
                        .spawn_scoped(scope, move || this.resolve_one(lookup, seed));
                    (lookup, seed, spawned)
                })
                .collect();
            handles
                .into_iter()
                .map(|(lookup, seed, spawned)| match spawned {
                    Ok(handle) => handle.join().unwrap_or_else(|_| Resolved {
                        id: lookup.id,
                        answer: Answer::temp_fail("resolver thread failed"),
                        latency: Duration::ZERO,
                        server: this.servers[0],
                        transport: Transport::Udp,
                    }),
                    // Out of threads: resolve this one here, the rest still run.
                    Err(_) => this.resolve_one(lookup, seed),
                })
                .collect()
        })
    }

    /// UDP tries over the servers in turn; TCP to the same server when the
    /// UDP answer is truncated.
    fn resolve_one(&self, lookup: &Lookup, seed: u64) -> Resolved {
        let started = Instant::now();
        let mut ids = XorShift::new(seed);
        let mut server = self.servers[0];
        let mut failure = String::from("timeout");
        for attempt in 0..self.attempts {
            server = self.servers[attempt as usize % self.servers.len()];
            let id = ids.next_u16();
            let query = match encode_query(lookup, id) {
                Ok(query) => query,
                Err(unsendable) => {
                    return self.finish(
                        lookup,
                        started,
                        unsendable.into_answer(),
                        server,
                        Transport::Udp,
                    );
                }
            };
            match udp_exchange(lookup, &query, id, server, self.timeout) {
                Ok(answer) => return self.finish(lookup, started, answer, server, Transport::Udp),
                Err(UdpFailure::Truncated) => {
                    match tcp_exchange(lookup, &query, id, server, self.timeout) {
                        Ok(answer) => {
                            return self.finish(lookup, started, answer, server, Transport::Tcp);
                        }
                        Err(why) => failure = why,
                    }
                }
                Err(UdpFailure::Failed(why)) => failure = why,
            }
        }
        self.finish(
            lookup,
            started,
            Answer::TempFail(failure),
            server,
            Transport::Udp,
        )
    }

    fn finish(
        &self,
        lookup: &Lookup,
        started: Instant,
        answer: Answer,
        server: SocketAddr,
        transport: Transport,
    ) -> Resolved {
        Resolved {
            id: lookup.id,
            answer,
            latency: started.elapsed(),
            server,
            transport,
        }
    }
}

enum UdpFailure {
    /// The reply had the TC bit: repeat over TCP.
    Truncated,
    /// No usable reply; the reason ends up in `TempFail`.
    Failed(String),
}

/// Sends `query` over UDP and waits until `timeout` for a reply that passes
/// [`decode_response`]'s checks.
///
/// The socket is connected, so the kernel delivers only datagrams whose
/// source is `server`. Replies with the wrong id or question, or that do not
/// parse, are stale or forged: they are skipped and the wait goes on.
fn udp_exchange(
    lookup: &Lookup,
    query: &[u8],
    id: u16,
    server: SocketAddr,
    timeout: Duration,
) -> Result<Answer, UdpFailure> {
    let io_failure = |e: io::Error| UdpFailure::Failed(format!("udp {server}: {e}"));
    let local: IpAddr = match server {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind((local, 0)).map_err(io_failure)?;
    socket.connect(server).map_err(io_failure)?;
    let deadline = Instant::now() + timeout;
    socket.send(query).map_err(io_failure)?;

    let mut buffer = vec![0; MAX_MESSAGE];
    let mut skipped: Option<WireError> = None;
    let timed_out = |skipped: Option<WireError>| match skipped {
        None => UdpFailure::Failed("timeout".to_owned()),
        Some(e) => UdpFailure::Failed(format!("timeout (skipped a reply: {e})")),
    };
    loop {
        let Some(left) = time_left(deadline) else {
            return Err(timed_out(skipped));
        };
        socket.set_read_timeout(Some(left)).map_err(io_failure)?;
        match socket.recv(&mut buffer) {
            Ok(len) => match decode_response(lookup, Some(id), &buffer[..len]) {
                Ok(answer) => return Ok(answer),
                Err(WireError::Truncated) => return Err(UdpFailure::Truncated),
                Err(stray) => skipped = Some(stray),
            },
            Err(e) if is_timeout(&e) => return Err(timed_out(skipped)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_failure(e)),
        }
    }
}

/// Sends `query` over TCP with its 2-byte length prefix (RFC 1035 §4.2.2) and
/// reads one framed reply, all within `timeout`.
fn tcp_exchange(
    lookup: &Lookup,
    query: &[u8],
    id: u16,
    server: SocketAddr,
    timeout: Duration,
) -> Result<Answer, String> {
    let failure = |e: io::Error| {
        if is_timeout(&e) {
            format!("tcp {server}: timeout")
        } else {
            format!("tcp {server}: {e}")
        }
    };
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&server, timeout).map_err(failure)?;
    let len = u16::try_from(query.len()).map_err(|_| format!("query of {} bytes", query.len()))?;
    let mut framed = Vec::with_capacity(2 + query.len());
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    let left = time_left(deadline).ok_or_else(|| failure(io::ErrorKind::TimedOut.into()))?;
    stream.set_write_timeout(Some(left)).map_err(failure)?;
    stream.write_all(&framed).map_err(failure)?;

    let mut len = [0; 2];
    read_before(&mut stream, &mut len, deadline).map_err(failure)?;
    let mut reply = vec![0; usize::from(u16::from_be_bytes(len))];
    read_before(&mut stream, &mut reply, deadline).map_err(failure)?;
    decode_response(lookup, Some(id), &reply).map_err(|e| format!("tcp {server}: {e}"))
}

/// Fills `buf` from `stream`, failing with `TimedOut` once `deadline` passes,
/// however slowly the bytes trickle in.
fn read_before(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let left = time_left(deadline).ok_or(io::ErrorKind::TimedOut)?;
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Time until `deadline`, or `None` once it has passed (a zero read timeout
/// would mean "block forever" to the socket API, so it is never returned).
fn time_left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
}

/// A read timeout shows as `WouldBlock` on Unix and `TimedOut` on Windows.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Parses a `--server` argument: `IP` or `IP:PORT`, an IPv6 address with a
/// port in brackets (`[2001:db8::1]:5353`); the port defaults to 53.
pub fn parse_server(arg: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = arg.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = arg
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(arg);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .map_err(|_| format!("`{arg}` is not IP or IP:PORT (IPv6 with a port: [IP]:PORT)"))
}

/// The servers of `/etc/resolv.conf`, or `127.0.0.1:53` when it is missing or
/// names none (what glibc does).
pub fn system_servers() -> Vec<SocketAddr> {
    let servers = std::fs::read_to_string("/etc/resolv.conf")
        .map(|text| parse_resolv_conf(&text))
        .unwrap_or_default();
    if servers.is_empty() {
        vec![SocketAddr::new(Ipv4Addr::LOCALHOST.into(), DNS_PORT)]
    } else {
        servers
    }
}

/// The `nameserver` addresses of a resolv.conf text, port 53, at most three
/// like glibc. Comments (`#`, `;`), other options and unparsable addresses
/// are skipped; so are scoped IPv6 addresses (`fe80::1%eth0`), whose interface
/// std cannot look up.
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(addr)) => addr.parse::<IpAddr>().ok(),
                _ => None,
            }
        })
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .take(MAX_SYSTEM_SERVERS)
        .collect()
}

/// xorshift64* (Vigna): enough to make message ids unpredictable to an
/// off-path sender that cannot see our queries; not cryptographic.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    /// Seeded from the clock and the process id.
    fn from_entropy() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        XorShift::new(nanos ^ (u64::from(std::process::id()) << 32))
    }

    fn new(seed: u64) -> Self {
        // The state must never be zero; any fixed odd constant will do.
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn next_u16(&mut self) -> u16 {
        (self.next() >> 48) as u16
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::thread::JoinHandle;

    use spfgate::dns::{QueryType, Rdata};

    use super::*;

    /// What the fake server does with one UDP query from a client: the
    /// datagrams to send, and to whom (so replies can be held back).
    type UdpHandler = Box<dyn FnMut(&[u8], SocketAddr) -> Vec<(SocketAddr, Vec<u8>)> + Send>;
    /// The reply to one query received over TCP (without length prefix).
    type TcpHandler = Box<dyn Fn(&[u8]) -> Vec<u8> + Send>;

    /// A DNS server on 127.0.0.1 that answers from a closure, UDP and
    /// optionally TCP on the same port. Stops when dropped.
    struct FakeServer {
        addr: SocketAddr,
        udp_queries: Arc<AtomicUsize>,
        stop: Arc<AtomicBool>,
        threads: Vec<JoinHandle<()>>,
    }

    impl FakeServer {
        fn udp(handler: UdpHandler) -> Self {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            Self::start(socket, handler, None)
        }

        fn udp_and_tcp(handler: UdpHandler, tcp: TcpHandler) -> Self {
            // The kernel picks a free UDP port; TCP on the same number is
            // almost always free as well.
            for _ in 0..20 {
                let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
                if let Ok(listener) = TcpListener::bind(socket.local_addr().unwrap()) {
                    return Self::start(socket, handler, Some((listener, tcp)));
                }
            }
            panic!("no port free for both UDP and TCP");
        }

        fn start(
            socket: UdpSocket,
            mut handler: UdpHandler,
            tcp: Option<(TcpListener, TcpHandler)>,
        ) -> Self {
            let addr = socket.local_addr().unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let udp_queries = Arc::new(AtomicUsize::new(0));
            let mut threads = Vec::new();
            let (stop_udp, count) = (stop.clone(), udp_queries.clone());
            socket
                .set_read_timeout(Some(Duration::from_millis(20)))
                .unwrap();
            threads.push(thread::spawn(move || {
                let mut buf = [0; 2048];
                while !stop_udp.load(Ordering::Relaxed) {
                    if let Ok((len, from)) = socket.recv_from(&mut buf) {
                        count.fetch_add(1, Ordering::Relaxed);
                        for (to, reply) in handler(&buf[..len], from) {
                            socket.send_to(&reply, to).unwrap();
                        }
                    }
                }
            }));
            if let Some((listener, tcp)) = tcp {
                let stop_tcp = stop.clone();
                listener.set_nonblocking(true).unwrap();
                threads.push(thread::spawn(move || {
                    while !stop_tcp.load(Ordering::Relaxed) {
                        let Ok((mut stream, _)) = listener.accept() else {
                            thread::sleep(Duration::from_millis(5));
                            continue;
                        };
                        stream.set_nonblocking(false).unwrap();
                        let mut len = [0; 2];
                        stream.read_exact(&mut len).unwrap();
                        let mut query = vec![0; usize::from(u16::from_be_bytes(len))];
                        stream.read_exact(&mut query).unwrap();
                        let reply = tcp(&query);
                        let reply_len = u16::try_from(reply.len()).unwrap();
                        stream.write_all(&reply_len.to_be_bytes()).unwrap();
                        stream.write_all(&reply).unwrap();
                    }
                }));
            }
            FakeServer {
                addr,
                udp_queries,
                stop,
                threads,
            }
        }

        fn udp_queries(&self) -> usize {
            self.udp_queries.load(Ordering::Relaxed)
        }
    }

    impl Drop for FakeServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
            for thread in self.threads.drain(..) {
                let _ = thread.join();
            }
        }
    }

    const NOERROR: u8 = 0;
    const A: u16 = 1;
    const TXT: u16 = 16;

    /// Offset just past the question of a query we sent (no compression there).
    fn question_end(query: &[u8]) -> usize {
        let mut at = 12;
        while query[at] != 0 {
            at += 1 + usize::from(query[at]);
        }
        at + 1 + 4
    }

    /// A response to `query` with the given rcode, TC bit and answer records
    /// owned by the question name (a compression pointer to offset 12).
    fn reply(query: &[u8], rcode: u8, truncated: bool, answers: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let end = question_end(query);
        let mut msg = query[..2].to_vec();
        msg.push(0x81 | if truncated { 0x02 } else { 0 }); // QR, RD
        msg.push(0x80 | rcode); // RA
        msg.extend_from_slice(&[0, 1]);
        msg.extend_from_slice(&u16::try_from(answers.len()).unwrap().to_be_bytes());
        msg.extend_from_slice(&[0, 0, 0, 0]);
        msg.extend_from_slice(&query[12..end]);
        for (rtype, rdata) in answers {
            msg.extend_from_slice(&[0xc0, 12]);
            msg.extend_from_slice(&rtype.to_be_bytes());
            msg.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            msg.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
            msg.extend_from_slice(rdata);
        }
        msg
    }

    fn a_rdata(last: u8) -> (u16, Vec<u8>) {
        (A, vec![192, 0, 2, last])
    }

    fn a_answer(last: u8) -> Answer {
        Answer::Records(vec![Rdata::A(Ipv4Addr::new(192, 0, 2, last))])
    }

    fn lookup(id: u32, name: &str, qtype: QueryType) -> Lookup {
        Lookup {
            id: LookupId(id),
            name: name.to_owned(),
            qtype,
        }
    }

    /// Tests that expect an answer wait long, so a busy machine cannot fail
    /// them; tests that expect silence wait [`SHORT`].
    const LONG: Duration = Duration::from_secs(5);
    const SHORT: Duration = Duration::from_millis(200);

    fn resolver(servers: &[SocketAddr], attempts: u32, timeout: Duration) -> Resolver {
        Resolver::new(ResolverConfig {
            servers: servers.to_vec(),
            timeout,
            attempts,
        })
    }

    fn answering(last: u8) -> UdpHandler {
        Box::new(move |query, from| vec![(from, reply(query, NOERROR, false, &[a_rdata(last)]))])
    }

    #[test]
    fn answers_over_udp() {
        let server = FakeServer::udp(answering(1));
        let resolved = resolver(&[server.addr], 1, LONG).resolve_batch(&[lookup(
            3,
            "mail.example.com",
            QueryType::A,
        )]);
        assert_eq!(resolved.len(), 1);
        let r = &resolved[0];
        assert_eq!(r.id, LookupId(3));
        assert_eq!(r.answer, a_answer(1));
        assert_eq!((r.server, r.transport), (server.addr, Transport::Udp));
        assert!(r.latency < LONG, "{:?}", r.latency);
    }

    #[test]
    fn batch_is_in_flight_at_once() {
        // The server answers nothing until it holds all three queries: a
        // resolver asking one after the other would time out.
        let mut held = Vec::new();
        let server = FakeServer::udp(Box::new(move |query, from| {
            let last = question_end(query) as u8; // differs by name length
            held.push((from, reply(query, NOERROR, false, &[a_rdata(last)])));
            if held.len() == 3 {
                std::mem::take(&mut held)
            } else {
                Vec::new()
            }
        }));
        let batch = [
            lookup(1, "a.example", QueryType::A),
            lookup(2, "bb.example", QueryType::A),
            lookup(3, "ccc.example", QueryType::A),
        ];
        let resolved = resolver(&[server.addr], 1, LONG).resolve_batch(&batch);
        let ids: Vec<u32> = resolved.iter().map(|r| r.id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        let answers: Vec<&Answer> = resolved.iter().map(|r| &r.answer).collect();
        assert_eq!(answers, [&a_answer(27), &a_answer(28), &a_answer(29)]);
    }

    #[test]
    fn silent_server_times_out_after_every_attempt() {
        let server = FakeServer::udp(Box::new(|_, _| Vec::new()));
        let resolved = resolver(&[server.addr], 2, SHORT).resolve_batch(&[lookup(
            1,
            "example.com",
            QueryType::Txt,
        )]);
        assert_eq!(resolved[0].answer, Answer::temp_fail("timeout"));
        assert!(resolved[0].latency >= 2 * SHORT);
        assert_eq!(server.udp_queries(), 2);
    }

    #[test]
    fn a_retry_goes_to_the_next_server() {
        let silent = FakeServer::udp(Box::new(|_, _| Vec::new()));
        let good = FakeServer::udp(answering(7));
        let resolved = resolver(&[silent.addr, good.addr], 2, Duration::from_secs(1))
            .resolve_batch(&[lookup(1, "example.com", QueryType::A)]);
        assert_eq!(resolved[0].answer, a_answer(7));
        assert_eq!(resolved[0].server, good.addr);
        assert_eq!((silent.udp_queries(), good.udp_queries()), (1, 1));
    }

    #[test]
    fn truncated_udp_answer_is_repeated_over_tcp() {
        let long_txt: Vec<u8> = [&[255u8][..], &[b'x'; 255], &[100], &[b'y'; 100]].concat();
        let server = FakeServer::udp_and_tcp(
            Box::new(|query, from| vec![(from, reply(query, NOERROR, true, &[]))]),
            Box::new(move |query| reply(query, NOERROR, false, &[(TXT, long_txt.clone())])),
        );
        let resolved = resolver(&[server.addr], 1, LONG).resolve_batch(&[lookup(
            1,
            "big.example",
            QueryType::Txt,
        )]);
        let expected = [vec![b'x'; 255], vec![b'y'; 100]].concat();
        assert_eq!(
            resolved[0].answer,
            Answer::Records(vec![Rdata::Txt(expected)])
        );
        assert_eq!(resolved[0].transport, Transport::Tcp);
    }

    #[test]
    fn replies_with_wrong_id_or_question_are_skipped() {
        let server = FakeServer::udp(Box::new(|query, from| {
            let mut wrong_id = reply(query, NOERROR, false, &[a_rdata(66)]);
            wrong_id[1] ^= 0xff;
            let mut wrong_question = reply(query, NOERROR, false, &[a_rdata(67)]);
            wrong_question[14] = b'z'; // exzmple.com
            let garbage = vec![0xde, 0xad];
            let right = reply(query, NOERROR, false, &[a_rdata(1)]);
            [wrong_id, wrong_question, garbage, right]
                .into_iter()
                .map(|msg| (from, msg))
                .collect()
        }));
        let resolved = resolver(&[server.addr], 1, LONG).resolve_batch(&[lookup(
            1,
            "example.com",
            QueryType::A,
        )]);
        assert_eq!(resolved[0].answer, a_answer(1));
    }

    #[test]
    fn a_skipped_reply_is_named_when_the_wait_ends() {
        let server = FakeServer::udp(Box::new(|query, from| {
            let mut wrong_id = reply(query, NOERROR, false, &[]);
            wrong_id[0] ^= 0xff;
            vec![(from, wrong_id)]
        }));
        let resolved = resolver(&[server.addr], 1, SHORT).resolve_batch(&[lookup(
            1,
            "example.com",
            QueryType::A,
        )]);
        let Answer::TempFail(why) = &resolved[0].answer else {
            panic!("{:?}", resolved[0].answer)
        };
        assert!(
            why.starts_with("timeout (skipped a reply: message id"),
            "{why}"
        );
    }

    #[test]
    fn rcodes_come_through() {
        let server = FakeServer::udp(Box::new(|query, from| {
            let rcode = if query[13] == b'n' { 3 } else { 2 };
            vec![(from, reply(query, rcode, false, &[]))]
        }));
        let batch = [
            lookup(1, "nx.example", QueryType::A),
            lookup(2, "sf.example", QueryType::A),
        ];
        let resolved = resolver(&[server.addr], 1, LONG).resolve_batch(&batch);
        assert_eq!(resolved[0].answer, Answer::NxDomain);
        assert_eq!(resolved[1].answer, Answer::temp_fail("SERVFAIL"));
    }

    #[test]
    fn closed_port_fails_fast() {
        let closed = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let resolved =
            resolver(&[closed], 1, LONG).resolve_batch(&[lookup(1, "example.com", QueryType::A)]);
        let Answer::TempFail(why) = &resolved[0].answer else {
            panic!("{:?}", resolved[0].answer)
        };
        assert!(why.starts_with(&format!("udp {closed}: ")), "{why}");
        assert!(resolved[0].latency < LONG);
    }

    #[test]
    fn unsendable_name_is_nxdomain_without_a_query() {
        let server = FakeServer::udp(answering(1));
        let resolved = resolver(&[server.addr], 1, LONG).resolve_batch(&[lookup(
            1,
            "a..example",
            QueryType::A,
        )]);
        assert_eq!(resolved[0].answer, Answer::NxDomain);
        assert_eq!(server.udp_queries(), 0);
    }

    #[test]
    fn empty_batch_gives_nothing() {
        let nobody = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 9);
        assert!(resolver(&[nobody], 1, SHORT).resolve_batch(&[]).is_empty());
    }

    #[test]
    fn resolv_conf_nameservers_are_read() {
        let text = "\
# generated
search example.com
nameserver 192.0.2.53
  nameserver\t2001:db8::53  # trailing comment
;nameserver 192.0.2.99
nameserver fe80::1%eth0
nameserver not-an-address
nameserver
options timeout:1 attempts:3
nameserver 198.51.100.1
nameserver 203.0.113.1
";
        let servers = parse_resolv_conf(text);
        let expected: Vec<SocketAddr> = ["192.0.2.53:53", "[2001:db8::53]:53", "198.51.100.1:53"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(servers, expected);
        assert!(parse_resolv_conf("").is_empty());
    }

    #[test]
    fn server_arguments_default_to_port_53() {
        let ok = [
            ("192.0.2.1", "192.0.2.1:53"),
            ("192.0.2.1:5353", "192.0.2.1:5353"),
            ("2001:db8::1", "[2001:db8::1]:53"),
            ("[2001:db8::1]", "[2001:db8::1]:53"),
            ("[2001:db8::1]:5353", "[2001:db8::1]:5353"),
        ];
        for (arg, expected) in ok {
            assert_eq!(parse_server(arg), Ok(expected.parse().unwrap()), "{arg}");
        }
        for bad in ["", "example.com", "192.0.2.1:99999", "192.0.2.1:"] {
            assert!(parse_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_ids_vary() {
        let mut ids = XorShift::new(0);
        let drawn: Vec<u16> = (0..8).map(|_| ids.next_u16()).collect();
        assert!(drawn.windows(2).all(|w| w[0] != w[1]), "{drawn:?}");
    }
}
