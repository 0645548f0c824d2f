//! DNS wire format: encode a [`Lookup`] as a query message, decode a response
//! message into an [`Answer`].
//!
//! This is the only module that knows hickory-proto; nothing from it leaks into
//! a public signature, so a hickory upgrade (its `Message` changed between 0.25
//! and 0.26) stays a change to this file alone.
//!
//! Callers that move raw messages themselves (a C resolver's `res_query()`
//! buffer, a DNS-over-HTTPS body, the CLI's UDP/TCP stub resolver) use it like
//! this:
//!
//! ```
//! use spfgate::dns::wire::{WireError, decode_response, encode_query};
//! use spfgate::dns::{Answer, Lookup, LookupId, QueryType};
//!
//! let lookup = Lookup { id: LookupId(1), name: "example.com".into(), qtype: QueryType::Txt };
//! let query: Vec<u8> = encode_query(&lookup, 0x1234)?;
//! // ... send `query` over UDP, receive `response` ...
//! # let mut response = query.clone();
//! # response[2] |= 0x80; // QR: a response with no records
//! # response[11] = 0; // no OPT record
//! # response.truncate(response.len() - 11);
//! let answer = match decode_response(&lookup, Some(0x1234), &response) {
//!     Ok(answer) => answer,
//!     Err(WireError::Truncated) => todo!("send the same query over TCP"),
//!     Err(unusable) => unusable.into_answer(), // temperror
//! };
//! assert_eq!(answer, Answer::Records(vec![])); // NOERROR without records: no data
//! # Ok::<(), WireError>(())
//! ```
//!
//! Decoding never panics and allocates in proportion to the input: a question
//! count other than one is refused before anything is read, and every record
//! read consumes at least eleven input bytes.

use std::fmt::Write;

use hickory_proto::op::{Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, DecodeError};

use super::{Answer, Lookup, QueryType, Rdata};

/// The EDNS0 UDP payload size we advertise: the DNS Flag Day 2020 value, which
/// avoids IP fragmentation on nearly every path.
pub const EDNS_UDP_PAYLOAD: u16 = 1232;

/// How many CNAME records [`decode_response`] follows before giving up. Real
/// chains are one or two hops; recursive resolvers stop around 8 to 16.
pub const MAX_CNAME_HOPS: usize = 16;

/// Why a DNS message could not be used, or a query could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive] // further checks on messages may add variants.
pub enum WireError {
    /// The TC bit is set: the answer did not fit, the same query must be sent
    /// again over TCP.
    #[error("response truncated (TC bit set); retry over TCP")]
    Truncated,
    /// The message id differs from the query's: a stale or forged reply.
    #[error("message id {got} does not match the query id {expected}")]
    IdMismatch {
        /// The id the query was sent with.
        expected: u16,
        /// The id found in the message.
        got: u16,
    },
    /// The question section does not repeat the lookup's name, type and class IN.
    #[error("response question `{got}` does not match the lookup `{expected}`")]
    QuestionMismatch {
        /// The lookup's name and type, e.g. `example.com TXT`.
        expected: String,
        /// What the message asked instead, e.g. `example.net TXT` or
        /// `2 questions`.
        got: String,
    },
    /// The QR bit is clear or the opcode is not QUERY: not an answer to our query.
    #[error("message is not a response to a standard query")]
    NotAResponse,
    /// The bytes are not a well-formed DNS message.
    #[error("malformed DNS message: {0}")]
    Malformed(String),
    /// The lookup's name cannot be written on the wire (an empty label, a label
    /// over 63 octets, or more than 253 octets of text).
    #[error("name `{name}` cannot be queried: {reason}")]
    InvalidName {
        /// The name as the lookup had it.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl WireError {
    /// The answer an evaluator should take in place of an unusable message.
    ///
    /// A bad message is a temporary failure (SPF temperror): another try may
    /// well succeed. An [`InvalidName`](WireError::InvalidName) becomes
    /// NXDOMAIN instead, because no zone can hold such a name and RFC 7208
    /// §4.3 treats a malformed domain like a nonexistent one.
    pub fn into_answer(self) -> Answer {
        match self {
            WireError::InvalidName { .. } => Answer::NxDomain,
            other => Answer::TempFail(other.to_string()),
        }
    }
}

/// Builds a standard query for `lookup`: RD set, one question of class IN, and
/// an EDNS0 OPT record advertising [`EDNS_UDP_PAYLOAD`] bytes.
///
/// The name is sent as given (case kept, a trailing dot allowed), each label
/// taken byte for byte so that macro-expanded names with unusual characters
/// reach the server unchanged.
///
/// The message is written field by field as RFC 1035 §4.1 and RFC 6891 §6.1.2
/// lay it out, without compression (one name has nothing to point to).
pub fn encode_query(lookup: &Lookup, message_id: u16) -> Result<Vec<u8>, WireError> {
    let labels = checked_labels(&lookup.name)?;
    let mut query = Vec::with_capacity(12 + lookup.name.len() + 2 + 4 + 11);
    // Header (§4.1.1): ID; QR=0 OPCODE=QUERY AA=0 TC=0 RD=1; RA=0 Z=0 RCODE=0;
    // QDCOUNT=1, ANCOUNT=0, NSCOUNT=0, ARCOUNT=1 (the OPT record).
    query.extend_from_slice(&message_id.to_be_bytes());
    query.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
    // Question (§4.1.2): QNAME as length-prefixed labels ending in the root
    // label (§3.1), QTYPE, QCLASS=IN.
    for label in labels {
        // `checked_labels` keeps labels within 1..=63 octets.
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.push(0);
    query.extend_from_slice(&lookup.qtype.code().to_be_bytes());
    query.extend_from_slice(&u16::from(DNSClass::IN).to_be_bytes());
    // OPT pseudo-record (RFC 6891 §6.1.2): owner the root, TYPE=OPT, CLASS the
    // UDP payload size, TTL 0 (extended RCODE, version 0, no DO bit), no RDATA.
    query.push(0);
    query.extend_from_slice(&u16::from(RecordType::OPT).to_be_bytes());
    query.extend_from_slice(&EDNS_UDP_PAYLOAD.to_be_bytes());
    query.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    Ok(query)
}

/// Builds the response a server would send for `lookup` with `answer`: for fake
/// resolvers in tests of every binding, and to run the test suite through the wire.
///
/// NXDOMAIN and temporary failures become the NXDOMAIN and SERVFAIL rcodes; TXT data
/// is split into 255-octet character-strings.
///
/// ```
/// use spfgate::dns::{wire, Answer, Lookup, LookupId, QueryType, Rdata};
/// let lookup = Lookup { id: LookupId(7), name: "example.com".into(), qtype: QueryType::Txt };
/// let answer = Answer::Records(vec![Rdata::Txt(b"v=spf1 -all".to_vec())]);
/// let bytes = wire::encode_response(&lookup, 7, &answer)?;
/// assert_eq!(wire::decode_response(&lookup, Some(7), &bytes)?, answer);
/// # Ok::<(), wire::WireError>(())
/// ```
pub fn encode_response(
    lookup: &Lookup,
    message_id: u16,
    answer: &Answer,
) -> Result<Vec<u8>, WireError> {
    let owner = wire_name(&lookup.name)?;
    let mut message = Message::new(message_id, MessageType::Response, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.metadata.recursion_available = true;
    message.add_query(Query::query(owner.clone(), record_type(lookup.qtype)));
    match answer {
        Answer::NxDomain => message.metadata.response_code = ResponseCode::NXDomain,
        Answer::TempFail(_) => message.metadata.response_code = ResponseCode::ServFail,
        Answer::Records(records) => {
            for rdata in records {
                let data = to_hickory(rdata)?;
                message.add_answer(Record::from_rdata(owner.clone(), 300, data));
            }
        }
    }
    message
        .to_vec()
        .map_err(|e| WireError::Malformed(e.to_string()))
}

fn to_hickory(rdata: &Rdata) -> Result<RData, WireError> {
    use hickory_proto::rr::rdata::{PTR, TXT};
    // An empty target is the root name (a null MX, RFC 7505), as decoding reports it.
    let target = |name: &str| match name {
        "" => Ok(Name::root()),
        name => wire_name(name),
    };
    Ok(match rdata {
        Rdata::A(ip) => RData::A(A(*ip)),
        Rdata::Aaaa(ip) => RData::AAAA(AAAA(*ip)),
        Rdata::Mx {
            preference,
            exchange,
        } => RData::MX(MX::new(*preference, target(exchange)?)),
        Rdata::Txt(bytes) => {
            let strings: Vec<&[u8]> = if bytes.is_empty() {
                vec![&[]]
            } else {
                bytes.chunks(255).collect()
            };
            RData::TXT(TXT::from_bytes(strings))
        }
        Rdata::Ptr(name) => RData::PTR(PTR(target(name)?)),
    })
}

/// Decodes the response to `lookup` and extracts its answer.
///
/// Checks, in order: a response to a standard query, the message id (when
/// `expected_id` is given; a caller that lets a system resolver match ids
/// passes `None`), exactly one question equal to the lookup's (name compared
/// case-insensitively, type, class IN), the TC bit. Then the rcode: NOERROR
/// gives [`Answer::Records`] (empty for "no data"), NXDOMAIN gives
/// [`Answer::NxDomain`] (also after a CNAME chain: the rcode speaks about the
/// chain's last name), anything else [`Answer::TempFail`] naming the rcode.
///
/// For NOERROR, CNAME records in the answer section are followed from the
/// question name, at most [`MAX_CNAME_HOPS`] of them; the records of the wanted
/// type owned by the last name are returned and everything else (other names,
/// other types, the authority and additional sections) is ignored. A chain that
/// ends without records is "no data". A CNAME loop or an overlong chain is a
/// temporary failure, as a recursive resolver reports it (SERVFAIL).
///
/// Every record of every section is read, so that a broken message is
/// reported as broken: owner names, the RDATA of the types SPF reads (A, AAAA,
/// MX, TXT, PTR) and of CNAME, each RDATA filling exactly its RDLENGTH. The
/// RDATA of other types is skipped unread, as RFC 3597 §4 asks of types a
/// resolver does not know. An OPT record (RFC 6891) must be single, owned by
/// the root and in the additional section; its extended rcode bits count.
///
/// A lookup whose name [`encode_query`] would refuse gives the same
/// [`WireError::InvalidName`], whatever the message says.
pub fn decode_response(
    lookup: &Lookup,
    expected_id: Option<u16>,
    bytes: &[u8],
) -> Result<Answer, WireError> {
    let mut decoder = BinDecoder::new(bytes);
    let header = Header::read(&mut decoder).map_err(malformed)?;
    let meta = header.metadata;
    if meta.message_type != MessageType::Response || meta.op_code != OpCode::Query {
        return Err(WireError::NotAResponse);
    }
    if let Some(expected) = expected_id {
        if meta.id != expected {
            return Err(WireError::IdMismatch {
                expected,
                got: meta.id,
            });
        }
    }

    let expected = || format!("{} {}", lookup.name, lookup.qtype);
    if header.counts.queries != 1 {
        return Err(WireError::QuestionMismatch {
            expected: expected(),
            got: format!("{} questions", header.counts.queries),
        });
    }
    let question = Query::read(&mut decoder).map_err(malformed)?;
    let labels = checked_labels(&lookup.name)?;
    let wanted = record_type(lookup.qtype);
    if !is_named(question.name(), labels)
        || question.query_type() != wanted
        || question.query_class() != DNSClass::IN
    {
        return Err(WireError::QuestionMismatch {
            expected: expected(),
            got: format!(
                "{} {} {}",
                name_text(question.name()),
                question.query_type(),
                question.query_class()
            ),
        });
    }
    if meta.truncation {
        return Err(WireError::Truncated);
    }

    let counts = header.counts;
    let mut answers = Vec::with_capacity(usize::from(counts.answers).min(8));
    for _ in 0..counts.answers {
        answers.push(read_record(&mut decoder, false)?);
    }
    for _ in 0..counts.authorities {
        read_record(&mut decoder, false)?;
    }
    let mut rcode_high = None;
    for _ in 0..counts.additionals {
        if let Data::Opt { rcode_high: high } = read_record(&mut decoder, true)?.data {
            if rcode_high.replace(high).is_some() {
                return Err(malformed(DecodeError::DuplicateEdns));
            }
        }
    }
    let high = rcode_high.unwrap_or(0);
    let rcode = u16::from(ResponseCode::from(high, meta.response_code.low()));

    match rcode {
        0 => Ok(collect(&answers, question.name(), wanted)),
        3 => Ok(Answer::NxDomain),
        other => Ok(Answer::TempFail(rcode_name(other))),
    }
}

/// One resource record (RFC 1035 §4.1.3), as far as SPF reads it.
struct Rr {
    owner: Name,
    rtype: RecordType,
    /// CLASS is IN; for OPT, whose CLASS field is a payload size, false.
    in_class: bool,
    data: Data,
}

/// The RDATA of a record: decoded for the types SPF reads and for CNAME.
enum Data {
    Record(Rdata),
    /// An MX or PTR record, its name kept for comparison and converted to text
    /// only when it answers the lookup.
    Mx(u16, Name),
    Ptr(Name),
    Cname(Name),
    /// The EDNS OPT pseudo-record: the high eight bits of the 12-bit rcode.
    Opt {
        rcode_high: u8,
    },
    /// Any other type, skipped.
    Other,
}

/// Reads one record at the decoder's position; OPT, SIG and TSIG records are
/// refused outside the `additional` section, as they can only appear there.
fn read_record(decoder: &mut BinDecoder<'_>, additional: bool) -> Result<Rr, WireError> {
    let owner = Name::read(decoder).map_err(malformed)?;
    let rtype = RecordType::read(decoder).map_err(malformed)?;
    if rtype == RecordType::OPT && !owner.is_root() {
        return Err(malformed(DecodeError::EdnsNameNotRoot(Box::new(owner))));
    }
    let class = read_u16(decoder)?;
    let ttl = decoder.read_u32().map_err(malformed)?.unverified();
    let length = usize::from(read_u16(decoder)?);
    if length > decoder.len() {
        return Err(rdata_length(decoder.len(), length));
    }
    let data = match rtype {
        // An empty RDATA means "any" in dynamic updates only (RFC 2136 §2.4).
        _ if length == 0 && rtype != RecordType::OPT => {
            return Err(malformed(DecodeError::InvalidEmptyRecord));
        }
        // Query types only (RFC 1035 §3.2.3), never the type of a record.
        RecordType::ANY | RecordType::AXFR | RecordType::IXFR => {
            return Err(malformed(DecodeError::UnknownRecordTypeValue(rtype.into())));
        }
        _ => {
            let start = decoder.index();
            let data = read_rdata(decoder, rtype, ttl, length);
            let read = decoder.index() - start;
            if read != length {
                return Err(rdata_length(read, length));
            }
            data?
        }
    };
    if !additional && matches!(rtype, RecordType::OPT | RecordType::SIG | RecordType::TSIG) {
        return Err(malformed(DecodeError::RecordNotInAdditionalSection(rtype)));
    }
    Ok(Rr {
        owner,
        rtype,
        in_class: rtype != RecordType::OPT && class == u16::from(DNSClass::IN),
        data,
    })
}

/// Reads the `length` octets of RDATA of a record of type `rtype`.
fn read_rdata(
    decoder: &mut BinDecoder<'_>,
    rtype: RecordType,
    ttl: u32,
    length: usize,
) -> Result<Data, WireError> {
    Ok(match rtype {
        RecordType::A => Data::Record(Rdata::A(A::read(decoder).map_err(malformed)?.0)),
        RecordType::AAAA => Data::Record(Rdata::Aaaa(AAAA::read(decoder).map_err(malformed)?.0)),
        RecordType::MX => {
            let mx = MX::read(decoder).map_err(malformed)?;
            Data::Mx(mx.preference, mx.exchange)
        }
        RecordType::TXT => {
            // One or more <character-string>s (RFC 1035 §3.3.14), joined.
            let end = decoder.index() + length;
            let mut joined = Vec::with_capacity(length);
            while decoder.index() < end {
                let string = decoder.read_character_data().map_err(malformed)?;
                joined.extend_from_slice(string.unverified());
            }
            Data::Record(Rdata::Txt(joined))
        }
        RecordType::PTR => Data::Ptr(Name::read(decoder).map_err(malformed)?),
        RecordType::CNAME => Data::Cname(Name::read(decoder).map_err(malformed)?),
        RecordType::OPT => {
            decoder.read_slice(length).map_err(malformed)?;
            // TTL: extended RCODE (8 bits), version, flags (RFC 6891 §6.1.3).
            Data::Opt {
                rcode_high: (ttl >> 24) as u8,
            }
        }
        _ => {
            decoder.read_slice(length).map_err(malformed)?;
            Data::Other
        }
    })
}

fn read_u16(decoder: &mut BinDecoder<'_>) -> Result<u16, WireError> {
    Ok(decoder.read_u16().map_err(malformed)?.unverified())
}

/// RDATA that does not fill its RDLENGTH exactly, or would reach past the message.
fn rdata_length(read: usize, length: usize) -> WireError {
    WireError::Malformed(format!(
        "incorrect rdata length read: {read} expected: {length}"
    ))
}

/// Follows the CNAME chain from `qname` and collects the `wanted` records of
/// its last name.
fn collect(answers: &[Rr], qname: &Name, wanted: RecordType) -> Answer {
    let mut visited: Vec<&Name> = vec![qname];
    let mut current = qname;
    loop {
        let cname = answers.iter().find_map(|rr| match &rr.data {
            Data::Cname(target) if rr.in_class && rr.owner.eq_ignore_root(current) => Some(target),
            _ => None,
        });
        let Some(target) = cname else { break };
        if visited.iter().any(|seen| seen.eq_ignore_root(target)) {
            return Answer::TempFail(format!("CNAME loop at {}", name_text(target)));
        }
        if visited.len() > MAX_CNAME_HOPS {
            return Answer::TempFail(format!("CNAME chain longer than {MAX_CNAME_HOPS} hops"));
        }
        visited.push(target);
        current = target;
    }

    let records = answers
        .iter()
        .filter(|rr| rr.in_class && rr.rtype == wanted && rr.owner.eq_ignore_root(current))
        .filter_map(|rr| match &rr.data {
            Data::Record(rdata) => Some(rdata.clone()),
            Data::Mx(preference, exchange) => Some(Rdata::Mx {
                preference: *preference,
                exchange: name_text(exchange),
            }),
            Data::Ptr(target) => Some(Rdata::Ptr(name_text(target))),
            Data::Cname(_) | Data::Opt { .. } | Data::Other => None,
        })
        .collect();
    Answer::Records(records)
}

fn record_type(qtype: QueryType) -> RecordType {
    RecordType::from(qtype.code())
}

/// The labels of the lookup's name (a trailing dot dropped), checked to fit
/// on the wire: no label empty or over 63 octets, at most 253 octets of text.
fn checked_labels(name: &str) -> Result<std::str::Split<'_, char>, WireError> {
    let relative = name.strip_suffix('.').unwrap_or(name);
    let invalid = |reason: String| WireError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if relative.is_empty() {
        return Err(invalid("empty name".to_owned()));
    }
    if relative.len() > 253 {
        return Err(invalid(format!("{} octets, above 253", relative.len())));
    }
    for label in relative.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label".to_owned()));
        }
        if label.len() > 63 {
            return Err(invalid(format!(
                "label of {} octets, above 63",
                label.len()
            )));
        }
    }
    Ok(relative.split('.'))
}

/// Whether `name` has exactly these labels, compared case-insensitively.
fn is_named<'a>(name: &Name, mut labels: impl Iterator<Item = &'a str>) -> bool {
    let mut ours = name.iter();
    labels.all(|label| {
        ours.next()
            .is_some_and(|l| l.eq_ignore_ascii_case(label.as_bytes()))
    }) && ours.next().is_none()
}

/// The lookup's name as labels taken byte for byte (no escape or IDNA
/// processing), fully qualified.
fn wire_name(name: &str) -> Result<Name, WireError> {
    let labels = checked_labels(name)?;
    Name::from_labels(labels.map(str::as_bytes)).map_err(|e| WireError::InvalidName {
        name: name.to_owned(),
        reason: e.to_string(),
    })
}

/// The usual mnemonic for an rcode, as `TempFail` reason.
fn rcode_name(rcode: u16) -> String {
    match rcode {
        1 => "FORMERR".to_owned(),
        2 => "SERVFAIL".to_owned(),
        4 => "NOTIMP".to_owned(),
        5 => "REFUSED".to_owned(),
        16 => "BADVERS".to_owned(),
        other => format!("RCODE {other}"),
    }
}

fn malformed(err: DecodeError) -> WireError {
    WireError::Malformed(err.to_string())
}

/// A name as dotted ASCII text without the trailing dot; the root name
/// (an RFC 7505 null MX) is the empty string. Bytes outside printable
/// ASCII, and `.` or `\` inside a label, are written as zone-file `\DDD`
/// escapes so the text stays ASCII and unambiguous.
fn name_text(name: &Name) -> String {
    let mut text = String::with_capacity(name.len());
    for (i, label) in name.iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        for &byte in label {
            if byte.is_ascii_graphic() && byte != b'.' && byte != b'\\' {
                text.push(char::from(byte));
            } else {
                // Writing to a String cannot fail.
                let _ = write!(text, "\\{byte:03}");
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use hickory_proto::op::Edns;
    use hickory_proto::rr::rdata::{CNAME, PTR, TXT};
    use proptest::prelude::*;

    use super::*;
    use crate::dns::LookupId;

    fn lookup(name: &str, qtype: QueryType) -> Lookup {
        Lookup {
            id: LookupId(7),
            name: name.to_owned(),
            qtype,
        }
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn rr(owner: &str, data: RData) -> Record {
        Record::from_rdata(name(owner), 300, data)
    }

    fn cname(owner: &str, target: &str) -> Record {
        rr(owner, RData::CNAME(CNAME(name(target))))
    }

    fn txt(owner: &str, strings: &[&[u8]]) -> Record {
        rr(owner, RData::TXT(TXT::from_bytes(strings.to_vec())))
    }

    /// A response message with id 0x4242 answering `qname`/`qtype`.
    fn message(
        qname: &str,
        qtype: RecordType,
        rcode: ResponseCode,
        answers: Vec<Record>,
    ) -> Message {
        let mut msg = Message::response(0x4242, OpCode::Query);
        msg.metadata.response_code = rcode;
        msg.metadata.recursion_desired = true;
        msg.metadata.recursion_available = true;
        msg.add_query(Query::query(name(qname), qtype));
        msg.add_answers(answers);
        msg
    }

    fn response(
        qname: &str,
        qtype: RecordType,
        rcode: ResponseCode,
        answers: Vec<Record>,
    ) -> Vec<u8> {
        message(qname, qtype, rcode, answers).to_vec().unwrap()
    }

    fn decode(l: &Lookup, bytes: &[u8]) -> Result<Answer, WireError> {
        decode_response(l, Some(0x4242), bytes)
    }

    fn txt_answer(strings: &[&[u8]]) -> Answer {
        Answer::Records(vec![Rdata::Txt(strings.concat())])
    }

    #[test]
    fn encoded_query_parses_back() {
        let l = lookup("_spf.Example.COM", QueryType::Txt);
        let bytes = encode_query(&l, 0xabcd).unwrap();
        let msg = Message::from_vec(&bytes).unwrap();
        assert_eq!(msg.metadata.id, 0xabcd);
        assert_eq!(msg.metadata.message_type, MessageType::Query);
        assert_eq!(msg.metadata.op_code, OpCode::Query);
        assert!(msg.metadata.recursion_desired);
        assert_eq!(msg.queries.len(), 1);
        let q = &msg.queries[0];
        assert!(q.name().is_fqdn());
        assert_eq!(q.name().to_ascii(), "_spf.Example.COM.");
        assert_eq!(q.query_type(), RecordType::TXT);
        assert_eq!(q.query_class(), DNSClass::IN);
        assert_eq!(msg.edns.as_ref().map(Edns::max_payload), Some(1232));
        assert!(msg.answers.is_empty() && msg.authorities.is_empty());
    }

    #[test]
    fn every_query_type_has_its_code() {
        for (qtype, rtype) in [
            (QueryType::A, RecordType::A),
            (QueryType::Aaaa, RecordType::AAAA),
            (QueryType::Mx, RecordType::MX),
            (QueryType::Txt, RecordType::TXT),
            (QueryType::Ptr, RecordType::PTR),
        ] {
            let bytes = encode_query(&lookup("example.org.", qtype), 1).unwrap();
            let msg = Message::from_vec(&bytes).unwrap();
            assert_eq!(msg.queries[0].query_type(), rtype);
            assert_eq!(msg.queries[0].name().to_ascii(), "example.org.");
        }
    }

    #[test]
    fn query_labels_are_sent_byte_for_byte() {
        let l = lookup("a+b=c/d.example.com", QueryType::A);
        let msg = Message::from_vec(&encode_query(&l, 1).unwrap()).unwrap();
        let labels: Vec<&[u8]> = msg.queries[0].name().iter().collect();
        assert_eq!(labels, [&b"a+b=c/d"[..], b"example", b"com"]);
    }

    #[test]
    fn unencodable_names_are_refused_and_read_as_nxdomain() {
        let long_label = format!("{}.example.com", "x".repeat(64));
        let long_name = ["abcdefghi"; 26].join(".");
        for bad in ["", ".", "a..b", ".a", &long_label, &long_name] {
            let err = encode_query(&lookup(bad, QueryType::A), 1).unwrap_err();
            assert!(matches!(err, WireError::InvalidName { .. }), "{bad}: {err}");
            assert_eq!(err.into_answer(), Answer::NxDomain);
        }
        let response = response("example.com.", RecordType::A, ResponseCode::NoError, vec![]);
        let err = decode(&lookup("a..b", QueryType::A), &response).unwrap_err();
        assert!(matches!(err, WireError::InvalidName { .. }), "{err}");

        let longest_label = format!("{}.example.com", "x".repeat(63));
        assert!(encode_query(&lookup(&longest_label, QueryType::A), 1).is_ok());
    }

    #[test]
    fn noerror_without_records_is_no_data() {
        let bytes = response(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        let answer = decode(&lookup("example.com", QueryType::Txt), &bytes).unwrap();
        assert_eq!(answer, Answer::Records(vec![]));
        assert!(answer.is_void());
    }

    #[test]
    fn rcodes_map_to_answers() {
        let l = lookup("example.com", QueryType::A);
        for (rcode, expected) in [
            (ResponseCode::NXDomain, Answer::NxDomain),
            (ResponseCode::ServFail, Answer::temp_fail("SERVFAIL")),
            (ResponseCode::Refused, Answer::temp_fail("REFUSED")),
            (ResponseCode::FormErr, Answer::temp_fail("FORMERR")),
            (ResponseCode::NotImp, Answer::temp_fail("NOTIMP")),
            (ResponseCode::NotAuth, Answer::temp_fail("RCODE 9")),
            (ResponseCode::YXDomain, Answer::temp_fail("RCODE 6")),
        ] {
            let bytes = response("example.com.", RecordType::A, rcode, vec![]);
            assert_eq!(decode(&l, &bytes).unwrap(), expected, "{rcode:?}");
        }
    }

    #[test]
    fn extended_rcode_from_opt_record_is_honoured() {
        // BADVERS is 16: its low four bits are 0, which alone would read NOERROR.
        let mut msg = message("example.com.", RecordType::A, ResponseCode::BADVERS, vec![]);
        msg.set_edns(Edns::new());
        let bytes = msg.to_vec().unwrap();
        assert_eq!(bytes[3] & 0x0f, 0);
        let answer = decode(&lookup("example.com", QueryType::A), &bytes).unwrap();
        assert_eq!(answer, Answer::temp_fail("BADVERS"));
    }

    #[test]
    fn each_record_type_converts() {
        let v4 = Ipv4Addr::new(192, 0, 2, 1);
        let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
        let cases = [
            (QueryType::A, RecordType::A, RData::A(A(v4)), Rdata::A(v4)),
            (
                QueryType::Aaaa,
                RecordType::AAAA,
                RData::AAAA(AAAA(v6)),
                Rdata::Aaaa(v6),
            ),
            (
                QueryType::Mx,
                RecordType::MX,
                RData::MX(MX::new(10, name("Mail.Example.com."))),
                Rdata::Mx {
                    preference: 10,
                    exchange: "Mail.Example.com".to_owned(),
                },
            ),
            (
                QueryType::Ptr,
                RecordType::PTR,
                RData::PTR(PTR(name("host.example.net."))),
                Rdata::Ptr("host.example.net".to_owned()),
            ),
        ];
        for (qtype, rtype, data, expected) in cases {
            let bytes = response(
                "q.example.",
                rtype,
                ResponseCode::NoError,
                vec![rr("q.example.", data)],
            );
            let answer = decode(&lookup("q.example", qtype), &bytes).unwrap();
            assert_eq!(answer, Answer::Records(vec![expected]));
        }
    }

    #[test]
    fn null_mx_exchange_is_the_empty_string() {
        let data = RData::MX(MX::new(0, Name::root()));
        let bytes = response(
            "example.com.",
            RecordType::MX,
            ResponseCode::NoError,
            vec![rr("example.com.", data)],
        );
        let answer = decode(&lookup("example.com", QueryType::Mx), &bytes).unwrap();
        let expected = Rdata::Mx {
            preference: 0,
            exchange: String::new(),
        };
        assert_eq!(answer, Answer::Records(vec![expected]));
    }

    #[test]
    fn unusual_label_bytes_are_escaped() {
        let target = Name::from_labels([&b"we.ird\\"[..], b"caf\xc3\xa9 x", b"example"]).unwrap();
        let bytes = response(
            "1.2.0.192.in-addr.arpa.",
            RecordType::PTR,
            ResponseCode::NoError,
            vec![rr("1.2.0.192.in-addr.arpa.", RData::PTR(PTR(target)))],
        );
        let answer = decode(&lookup("1.2.0.192.in-addr.arpa", QueryType::Ptr), &bytes).unwrap();
        let expected = r"we\046ird\092.caf\195\169\032x.example";
        assert_eq!(
            answer,
            Answer::Records(vec![Rdata::Ptr(expected.to_owned())])
        );
    }

    #[test]
    fn txt_strings_are_joined_as_bytes_one_rdata_per_record() {
        let first: &[&[u8]] = &[b"v=spf1 ", b"ip4:192.0.2.0/24 ", b"\xff\x00\xe9 -all"];
        let bytes = response(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![
                txt("example.com.", first),
                txt("example.com.", &[b"other", b""]),
            ],
        );
        let answer = decode(&lookup("example.com", QueryType::Txt), &bytes).unwrap();
        assert_eq!(
            answer,
            Answer::Records(vec![
                Rdata::Txt(b"v=spf1 ip4:192.0.2.0/24 \xff\x00\xe9 -all".to_vec()),
                Rdata::Txt(b"other".to_vec()),
            ])
        );
    }

    #[test]
    fn records_for_other_names_and_types_are_ignored() {
        let bytes = response(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![
                txt("other.example.com.", &[b"not ours"]),
                rr("example.com.", RData::A(A(Ipv4Addr::LOCALHOST))),
                txt("EXAMPLE.com.", &[b"ours"]),
            ],
        );
        let answer = decode(&lookup("example.com", QueryType::Txt), &bytes).unwrap();
        assert_eq!(answer, txt_answer(&[b"ours"]));
    }

    #[test]
    fn cname_chain_is_followed_case_insensitively() {
        let bytes = response(
            "www.example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![
                txt("www.example.com.", &[b"beside the CNAME, ignored"]),
                cname("WWW.example.com.", "b.example.net."),
                txt("c.example.org.", &[b"the answer"]),
                cname("b.EXAMPLE.net.", "c.example.org."),
                txt("b.example.net.", &[b"middle of the chain, ignored"]),
            ],
        );
        let answer = decode(&lookup("www.example.com", QueryType::Txt), &bytes).unwrap();
        assert_eq!(answer, txt_answer(&[b"the answer"]));
    }

    #[test]
    fn cname_chain_without_final_records_is_no_data() {
        let bytes = response(
            "a.example.",
            RecordType::A,
            ResponseCode::NoError,
            vec![cname("a.example.", "b.example.")],
        );
        let answer = decode(&lookup("a.example", QueryType::A), &bytes).unwrap();
        assert_eq!(answer, Answer::Records(vec![]));
    }

    #[test]
    fn cname_loop_is_a_temporary_failure() {
        let bytes = response(
            "a.example.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![
                cname("a.example.", "b.example."),
                cname("b.example.", "A.example."),
                txt("a.example.", &[b"never reached"]),
            ],
        );
        let answer = decode(&lookup("a.example", QueryType::Txt), &bytes).unwrap();
        assert_eq!(answer, Answer::temp_fail("CNAME loop at A.example"));
    }

    fn chain(hops: usize) -> Vec<u8> {
        let mut answers: Vec<Record> = (0..hops)
            .map(|i| cname(&format!("h{i}.example."), &format!("h{}.example.", i + 1)))
            .collect();
        answers.push(rr(
            &format!("h{hops}.example."),
            RData::A(A(Ipv4Addr::LOCALHOST)),
        ));
        response("h0.example.", RecordType::A, ResponseCode::NoError, answers)
    }

    #[test]
    fn cname_chains_are_bounded() {
        let l = lookup("h0.example", QueryType::A);
        let longest = decode(&l, &chain(MAX_CNAME_HOPS)).unwrap();
        assert_eq!(
            longest,
            Answer::Records(vec![Rdata::A(Ipv4Addr::LOCALHOST)])
        );
        let too_long = decode(&l, &chain(MAX_CNAME_HOPS + 1)).unwrap();
        assert_eq!(
            too_long,
            Answer::temp_fail("CNAME chain longer than 16 hops")
        );
    }

    #[test]
    fn nxdomain_after_a_cname_stays_nxdomain() {
        let bytes = response(
            "alias.example.",
            RecordType::TXT,
            ResponseCode::NXDomain,
            vec![cname("alias.example.", "gone.example.")],
        );
        let answer = decode(&lookup("alias.example", QueryType::Txt), &bytes).unwrap();
        assert_eq!(answer, Answer::NxDomain);
    }

    #[test]
    fn truncated_response_asks_for_tcp_even_when_cut_short() {
        let mut msg = message(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        msg.metadata.truncation = true;
        let bytes = msg.to_vec().unwrap();
        let l = lookup("example.com", QueryType::Txt);
        assert_eq!(decode(&l, &bytes), Err(WireError::Truncated));

        // A server that cut the message mid-record but announced its records.
        let full = response(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![txt("example.com.", &[&[b'x'; 200]])],
        );
        let mut cut = full[..full.len() - 100].to_vec();
        cut[2] |= 0x02;
        assert_eq!(decode(&l, &cut), Err(WireError::Truncated));
        assert!(
            WireError::Truncated
                .into_answer()
                .to_string()
                .contains("TCP")
        );
    }

    #[test]
    fn id_is_checked_only_when_given() {
        let bytes = response(
            "example.com.",
            RecordType::A,
            ResponseCode::NXDomain,
            vec![],
        );
        let l = lookup("example.com", QueryType::A);
        assert_eq!(
            decode_response(&l, Some(1), &bytes),
            Err(WireError::IdMismatch {
                expected: 1,
                got: 0x4242
            })
        );
        assert_eq!(decode_response(&l, None, &bytes), Ok(Answer::NxDomain));
    }

    #[test]
    fn question_must_match_the_lookup() {
        let l = lookup("example.com", QueryType::Txt);
        let other_name = response(
            "example.net.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        let other_type = response("example.com.", RecordType::A, ResponseCode::NoError, vec![]);
        let mut chaos = message(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        chaos.queries[0].set_query_class(DNSClass::CH);
        let mut two = message(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        two.add_query(Query::query(name("example.com."), RecordType::TXT));
        let mut none = message(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        none.queries.clear();
        for (msg_bytes, got) in [
            (other_name, "example.net TXT IN"),
            (other_type, "example.com A IN"),
            (chaos.to_vec().unwrap(), "example.com TXT CH"),
            (two.to_vec().unwrap(), "2 questions"),
            (none.to_vec().unwrap(), "0 questions"),
        ] {
            assert_eq!(
                decode(&l, &msg_bytes),
                Err(WireError::QuestionMismatch {
                    expected: "example.com TXT".to_owned(),
                    got: got.to_owned()
                })
            );
        }
        let upper = response(
            "EXAMPLE.Com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        assert_eq!(decode(&l, &upper), Ok(Answer::Records(vec![])));
    }

    #[test]
    fn queries_and_other_opcodes_are_not_responses() {
        let l = lookup("example.com", QueryType::Txt);
        let query = encode_query(&l, 0x4242).unwrap();
        assert_eq!(decode(&l, &query), Err(WireError::NotAResponse));
        let mut notify = message(
            "example.com.",
            RecordType::TXT,
            ResponseCode::NoError,
            vec![],
        );
        notify.metadata.op_code = OpCode::Notify;
        assert_eq!(
            decode(&l, &notify.to_vec().unwrap()),
            Err(WireError::NotAResponse)
        );
    }

    /// A hand-written MX response whose names use compression pointers,
    /// including one into the middle of the question name.
    const COMPRESSED_MX: &[u8] = &[
        0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0,
        0, // header: id, QR RD RA, 1 question, 2 answers
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
        0, // @12 example.com
        0, 15, 0, 1, // MX IN
        0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 9, // example.com MX IN 3600, 9 bytes
        0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 12, // 10 mail.<example.com>
        0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 8, // example.com MX IN 3600, 8 bytes
        0, 20, 3, b'm', b'x', b'2', 0xc0, 20, // 20 mx2.<com>
    ];

    #[test]
    fn compressed_names_are_expanded() {
        let l = lookup("Example.Com", QueryType::Mx);
        let answer = decode_response(&l, Some(0xbeef), COMPRESSED_MX).unwrap();
        assert_eq!(
            answer,
            Answer::Records(vec![
                Rdata::Mx {
                    preference: 10,
                    exchange: "mail.example.com".to_owned()
                },
                Rdata::Mx {
                    preference: 20,
                    exchange: "mx2.com".to_owned()
                },
            ])
        );
    }

    #[test]
    fn compression_pointer_loops_are_malformed() {
        let mut bytes = COMPRESSED_MX[..29].to_vec();
        bytes[7] = 1; // one answer, whose owner name points at itself
        bytes.extend_from_slice(&[0xc0, 29, 0, 15, 0, 1, 0, 0, 0, 0, 0, 0]);
        let l = lookup("example.com", QueryType::Mx);
        let err = decode_response(&l, Some(0xbeef), &bytes).unwrap_err();
        assert!(matches!(err, WireError::Malformed(_)), "{err}");
    }

    #[test]
    fn garbage_and_empty_input_are_malformed() {
        let l = lookup("example.com", QueryType::Txt);
        for bytes in [
            &b""[..],
            b"\x42",
            b"\xbe\xef\x81\x80\x00\x01",
            b"\xbe\xef\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xff",
        ] {
            let err = decode_response(&l, None, bytes).unwrap_err();
            assert!(matches!(err, WireError::Malformed(_)), "{err}");
            assert!(
                matches!(err.into_answer(), Answer::TempFail(why) if why.starts_with("malformed"))
            );
        }
    }

    #[test]
    fn every_prefix_of_a_response_decodes_without_panic() {
        let l = lookup("example.com", QueryType::Mx);
        for end in 0..COMPRESSED_MX.len() {
            assert!(decode_response(&l, Some(0xbeef), &COMPRESSED_MX[..end]).is_err());
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_response(&lookup("example.com", QueryType::Txt), None, &bytes);
        }

        #[test]
        fn mutated_responses_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
        ) {
            let mut bytes = COMPRESSED_MX.to_vec();
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let _ = decode_response(&lookup("example.com", QueryType::Mx), None, &bytes);
        }
    }
}
