//! WebAssembly bindings of spfgate, for the npm package `spfgate` (`pkg/`).
//!
//! Thin on purpose: every function converts JS-side text into core types, calls
//! the core, and converts the core's serialization back (object keys turned
//! from snake_case into camelCase). The package's JS wrapper (`pkg/api.js`)
//! checks argument types, turns the error descriptions thrown here into
//! `Error` subclasses, and runs the async resolver loop; nothing here does I/O.
//!
//! An evaluation's hot path crosses the boundary with numbers and strings only:
//! request fields, the lookups of a batch read by index, records pushed one by
//! one into the engine's scratch answer or lent from a [`RawAnswer`] converted
//! once. Options, policy requests, outcomes, verdicts and reports cross as JSON
//! text, once per call. Errors are thrown as a JSON object
//! `{"name", "code", "message", ...}` in a JS string; `pkg/api.js` turns it
//! into the named error class.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spfgate::dns::{self, Answer, AnswerError, Engine, Lookup, LookupId, QueryType, Rdata, Step};
use spfgate::eval::{Config, Evaluator, Identity, Limits, Request, VoidCounting};
use spfgate::policy::{DecisionRequest, Policy, PolicyError};
use wasm_bindgen::prelude::*;

// ---------------------------------------------------------------------------
// Errors

/// An error description thrown to JS: `pkg/api.js` builds the class `name`.
fn error(name: &str, code: &str, message: impl Display, extra: Value) -> JsValue {
    let mut obj = Map::new();
    obj.insert("name".into(), name.into());
    obj.insert("code".into(), code.into());
    obj.insert("message".into(), message.to_string().into());
    if let Value::Object(extra) = extra {
        obj.extend(extra);
    }
    JsValue::from_str(&Value::Object(obj).to_string())
}

fn input_error(code: &str, message: impl Display) -> JsValue {
    error("SpfInputError", code, message, Value::Null)
}

/// A byte offset into `text` as a UTF-16 index, as JS strings count.
fn utf16_offset(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    let mut end = byte;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].encode_utf16().count() + (byte - end)
}

fn answer_error(e: AnswerError) -> JsValue {
    error("SpfAnswerError", e.code(), &e, Value::Null)
}

fn policy_error(e: &PolicyError) -> JsValue {
    error(
        "SpfPolicyError",
        e.kind.code(),
        e,
        json!({ "line": e.line, "column": e.column, "field": e.field }),
    )
}

// ---------------------------------------------------------------------------
// Core serialization → JS

/// serde_json's compact output with object keys turned from `snake_case` into
/// `camelCase` as they are written (keys with other characters are left alone).
#[derive(Default)]
struct CamelKeys {
    in_key: bool,
}

impl serde_json::ser::Formatter for CamelKeys {
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.in_key = true;
        if first {
            Ok(())
        } else {
            writer.write_all(b",")
        }
    }

    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let convertible = self.in_key
            && fragment.contains('_')
            && !fragment.starts_with('_')
            && fragment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !convertible {
            return writer.write_all(fragment.as_bytes());
        }
        let mut upper = false;
        for &b in fragment.as_bytes() {
            match b {
                b'_' => upper = true,
                b if upper => {
                    writer.write_all(&[b.to_ascii_uppercase()])?;
                    upper = false;
                }
                b => writer.write_all(&[b])?,
            }
        }
        Ok(())
    }
}

/// The core's serialization of `value` with camelCase keys, as JSON text.
fn to_js_json(value: &impl Serialize) -> String {
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, CamelKeys::default());
    match value.serialize(&mut serializer) {
        // serde_json writes UTF-8 only.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(e) => json!({ "serializationError": e.to_string() }).to_string(),
    }
}

// ---------------------------------------------------------------------------
// Records, lint, whitelist

/// The record's terms as JSON, or throws an `SpfParseError` description.
#[wasm_bindgen(js_name = parseRecord)]
pub fn parse_record(text: &str) -> Result<String, JsValue> {
    match spfgate::record::Record::parse(text) {
        Ok(record) => Ok(to_js_json(&record)),
        Err(e) => Err(parse_error(text, &e)),
    }
}

/// The core's serialization of a parse error as an `SpfParseError` description:
/// `code` is `kind.code`, `offset` and `length` count UTF-16 units as JS strings do.
fn parse_error(text: &str, e: &spfgate::record::ParseError) -> JsValue {
    let mut value = serde_json::to_value(e).unwrap_or_default();
    let offset = utf16_offset(text, e.offset());
    let length = utf16_offset(text, e.offset() + e.len()) - offset;
    let code = value["kind"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if let Value::Object(map) = &mut value {
        map.remove("message");
        map.insert("offset".into(), offset.into());
        map.insert("length".into(), length.into());
    }
    error("SpfParseError", &code, e, value)
}

/// The findings for one record's text, as JSON.
#[wasm_bindgen(js_name = lintRecord)]
pub fn lint_record(text: &str) -> String {
    to_js_json(&spfgate::lint::lint_record(text))
}

/// The whitelist report (`entries`, `errors`, `warnings`, ...) as JSON.
#[wasm_bindgen(js_name = parseWhitelist)]
pub fn parse_whitelist(text: &str) -> String {
    to_js_json(&spfgate::policy::whitelist::parse_whitelist(text))
}

// ---------------------------------------------------------------------------
// Requests (by field) and options (JSON text from `JSON.stringify` in the wrapper)

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsOptions {
    default_explanation: Option<String>,
    prefetch: Option<bool>,
    trace: Option<bool>,
    limits: Option<JsLimits>,
    void_counting: Option<JsVoidCounting>,
}

#[derive(Deserialize)]
enum JsVoidCounting {
    #[serde(rename = "per-term")]
    PerTerm,
    #[serde(rename = "per-lookup")]
    PerLookup,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsLimits {
    dns_terms: Option<u32>,
    void_lookups: Option<u32>,
    mx_names: Option<u32>,
    ptr_names: Option<u32>,
    max_queries: Option<u32>,
}

fn from_json<'a, T: Deserialize<'a>>(text: &'a str, code: &str, what: &str) -> Result<T, JsValue> {
    serde_json::from_str(text).map_err(|e| input_error(code, format_args!("{what}: {e}")))
}

fn parse_ip(ip: &str) -> Result<IpAddr, JsValue> {
    ip.parse().map_err(|_| {
        input_error(
            "invalid-ip",
            format_args!("`{ip}` is not an IPv4 or IPv6 address"),
        )
    })
}

/// A request from its fields, checked for type by the wrapper (`now` a
/// non-negative integer).
fn request(
    ip: &str,
    mail_from: &str,
    helo: &str,
    receiver: Option<String>,
    now: f64,
    helo_identity: bool,
) -> Result<Request, JsValue> {
    let mut request = Request::new(parse_ip(ip)?, mail_from, helo);
    request.receiver = receiver.unwrap_or_default();
    // Saturating: the wrapper passes integers in 0..2^64 only.
    request.now = now as u64;
    request.identity = if helo_identity {
        Identity::Helo
    } else {
        Identity::MailFrom
    };
    Ok(request)
}

fn config(text: &str, base: Config) -> Result<Config, JsValue> {
    let o: JsOptions = from_json(text, "invalid-options", "options")?;
    let l = o.limits.unwrap_or_default();
    let d = base.limits;
    Ok(Config {
        limits: Limits {
            dns_terms: l.dns_terms.unwrap_or(d.dns_terms),
            void_lookups: l.void_lookups.unwrap_or(d.void_lookups),
            mx_names: l.mx_names.unwrap_or(d.mx_names),
            ptr_names: l.ptr_names.unwrap_or(d.ptr_names),
            max_queries: l.max_queries.unwrap_or(d.max_queries),
            void_counting: match o.void_counting {
                None => d.void_counting,
                Some(JsVoidCounting::PerTerm) => VoidCounting::PerTerm,
                Some(JsVoidCounting::PerLookup) => VoidCounting::PerLookup,
            },
        },
        prefetch: o.prefetch.unwrap_or(base.prefetch),
        default_explanation: o
            .default_explanation
            .map(Into::into)
            .or(base.default_explanation),
        trace: o.trace.unwrap_or(base.trace),
    })
}

// ---------------------------------------------------------------------------
// Answers

fn bad_answer(message: impl Display) -> JsValue {
    error("SpfAnswerError", "invalid-answer", message, Value::Null)
}

/// One entry of a `{records: [...]}` answer as the wrapper read it, interpreted
/// according to the type of the lookup it answers.
enum Item {
    /// A string.
    Text(String),
    /// An array of strings (TXT character-strings), joined.
    Parts(String),
    /// `{ preference, exchange }` with a preference in 0..=65535 and a string exchange.
    Mx(u16, String),
    /// Anything else, by its description.
    Other(String),
}

impl Item {
    fn describe(&self) -> String {
        match self {
            Item::Text(s) => format!("{s:?}"),
            Item::Parts(s) => format!("an array of strings ({s:?})"),
            Item::Mx(p, e) => format!("{{ preference: {p}, exchange: {e:?} }}"),
            Item::Other(d) => d.clone(),
        }
    }

    fn rdata(&self, qtype: QueryType) -> Result<Rdata, JsValue> {
        let text = || match self {
            Item::Text(s) => Ok(s.as_str()),
            _ => Err(bad_answer(format_args!(
                "a {qtype} record must be a string, found {}",
                self.describe()
            ))),
        };
        let name = |s: &str| s.trim_end_matches('.').to_owned();
        Ok(match qtype {
            QueryType::A => Rdata::A(text()?.parse::<Ipv4Addr>().map_err(|_| {
                bad_answer(format_args!(
                    "an A record must be an IPv4 address, found {}",
                    self.describe()
                ))
            })?),
            QueryType::Aaaa => Rdata::Aaaa(text()?.parse::<Ipv6Addr>().map_err(|_| {
                bad_answer(format_args!(
                    "an AAAA record must be an IPv6 address, found {}",
                    self.describe()
                ))
            })?),
            QueryType::Ptr => Rdata::Ptr(name(text()?)),
            QueryType::Txt => match self {
                Item::Parts(s) => Rdata::Txt(s.clone().into_bytes()),
                _ => Rdata::Txt(text()?.as_bytes().to_vec()),
            },
            QueryType::Mx => match self {
                Item::Mx(preference, exchange) => Rdata::Mx {
                    preference: *preference,
                    exchange: name(exchange),
                },
                _ => {
                    return Err(bad_answer(format_args!(
                        "an MX record must be {{ preference: 0..65535, exchange: string }}, found {}",
                        self.describe()
                    )));
                }
            },
            other => return Err(bad_answer(format_args!("unsupported type {other}"))),
        })
    }
}

/// An answer read from JS once, given to lookups by reference (`LentAnswer.from` in
/// the wrapper) or rebuilt in an engine's scratch space for each plain answer.
#[derive(Default)]
enum Lent {
    #[default]
    NxDomain,
    TempFail(String),
    Records(Vec<Item>),
    Wire(Vec<u8>),
}

impl Lent {
    fn push(&mut self, item: Item) {
        match self {
            Lent::Records(items) => items.push(item),
            other => *other = Lent::Records(vec![item]),
        }
    }
}

/// The methods by which the wrapper fills a [`Lent`] field `$field` of `$raw`.
macro_rules! filling {
    ($raw:ty, $($field:ident).+) => {
        #[wasm_bindgen]
        impl $raw {
            /// Starts a `{records: [...]}` answer with no records.
            #[wasm_bindgen(js_name = setRecords)]
            pub fn set_records(&mut self) {
                match &mut self.$($field).+ {
                    Lent::Records(items) => items.clear(),
                    other => *other = Lent::Records(Vec::new()),
                }
            }

            /// Adds a string record.
            #[wasm_bindgen(js_name = pushText)]
            pub fn push_text(&mut self, text: String) {
                self.$($field).+.push(Item::Text(text));
            }

            /// Adds a TXT record given as character-strings, already joined.
            #[wasm_bindgen(js_name = pushParts)]
            pub fn push_parts(&mut self, joined: String) {
                self.$($field).+.push(Item::Parts(joined));
            }

            /// Adds an MX record.
            #[wasm_bindgen(js_name = pushMx)]
            pub fn push_mx(&mut self, preference: u16, exchange: String) {
                self.$($field).+.push(Item::Mx(preference, exchange));
            }

            /// Adds a record of no usable shape, by its description.
            #[wasm_bindgen(js_name = pushOther)]
            pub fn push_other(&mut self, description: String) {
                self.$($field).+.push(Item::Other(description));
            }
        }
    };
}

/// An answer converted once, to be lent to many lookups (`Answer` in the wrapper).
#[wasm_bindgen]
#[derive(Default)]
pub struct RawAnswer {
    lent: Lent,
}

#[wasm_bindgen]
impl RawAnswer {
    /// An NXDOMAIN answer until set otherwise.
    #[wasm_bindgen(constructor)]
    pub fn new() -> RawAnswer {
        RawAnswer::default()
    }

    /// Makes this a temporary failure.
    #[wasm_bindgen(js_name = setTempfail)]
    pub fn set_tempfail(&mut self, reason: String) {
        self.lent = Lent::TempFail(reason);
    }

    /// Makes this a raw DNS response message.
    #[wasm_bindgen(js_name = setWire)]
    pub fn set_wire(&mut self, message: Vec<u8>) {
        self.lent = Lent::Wire(message);
    }
}

filling!(RawAnswer, lent);

/// An engine of the core (evaluator or policy decision) with the type of each lookup
/// it handed out, by which record answers are read, the last batch for the wrapper
/// to read by index, and the scratch space of plain answers.
struct Driven<E> {
    engine: E,
    handed: HashMap<u32, QueryType>,
    batch: Vec<Lookup>,
    scratch: Lent,
}

impl<E: Engine> Driven<E>
where
    E::Output: Serialize,
{
    fn new(engine: E) -> Self {
        Driven {
            engine,
            handed: HashMap::new(),
            batch: Vec::new(),
            scratch: Lent::default(),
        }
    }

    /// The next step: the number of lookups in a new batch (read with `lookup_*`),
    /// -1 for pending, -2 for done (read with `outcome`).
    fn poll(&mut self) -> i32 {
        match self.engine.poll() {
            Step::Lookups(batch) => {
                self.handed.extend(batch.iter().map(|l| (l.id.0, l.qtype)));
                self.batch.clear();
                self.batch.extend_from_slice(&batch);
                i32::try_from(self.batch.len()).unwrap_or(i32::MAX)
            }
            Step::Pending => -1,
            Step::Done(_) => -2,
        }
    }

    fn lookup(&self, index: usize) -> Result<&Lookup, JsValue> {
        self.batch
            .get(index)
            .ok_or_else(|| input_error("invalid-argument", "no such lookup in the batch"))
    }

    fn outcome(&mut self) -> Result<String, JsValue> {
        match self.engine.poll() {
            Step::Done(value) => Ok(to_js_json(value)),
            _ => Err(error(
                "SpfError",
                "internal",
                "the engine is not done",
                Value::Null,
            )),
        }
    }

    fn answer(&mut self, id: u32, answer: Answer) -> Result<(), JsValue> {
        self.engine
            .answer(LookupId(id), answer)
            .map_err(answer_error)
    }

    fn answer_wire(&mut self, id: u32, message: &[u8]) -> Result<(), JsValue> {
        self.engine
            .answer_wire(LookupId(id), message)
            .map_err(answer_error)
    }

    fn answer_lent(&mut self, id: u32, lent: &Lent) -> Result<(), JsValue> {
        match lent {
            Lent::NxDomain => self.answer(id, Answer::NxDomain),
            Lent::TempFail(reason) => self.answer(id, Answer::temp_fail(reason.as_str())),
            Lent::Wire(message) => self.answer_wire(id, message),
            Lent::Records(items) => {
                let qtype = *self
                    .handed
                    .get(&id)
                    .ok_or_else(|| answer_error(AnswerError::UnknownId(LookupId(id))))?;
                let records = items
                    .iter()
                    .map(|item| item.rdata(qtype))
                    .collect::<Result<_, _>>()?;
                self.answer(id, Answer::Records(records))
            }
        }
    }
}

/// The answering methods of an exported engine type, delegated to its `Driven` field.
macro_rules! answering {
    ($raw:ty, $what:literal) => {
        #[wasm_bindgen]
        impl $raw {
            /// The next step: the number of lookups of a new batch, -1 for pending, -2 for done.
            pub fn poll(&mut self) -> i32 {
                self.inner.poll()
            }

            /// The id of lookup `index` of the last batch.
            #[wasm_bindgen(js_name = lookupId)]
            pub fn lookup_id(&self, index: usize) -> Result<u32, JsValue> {
                Ok(self.inner.lookup(index)?.id.0)
            }

            /// The name of lookup `index` of the last batch.
            #[wasm_bindgen(js_name = lookupName)]
            pub fn lookup_name(&self, index: usize) -> Result<String, JsValue> {
                Ok(self.inner.lookup(index)?.name.clone())
            }

            /// The DNS TYPE code of lookup `index` of the last batch.
            #[wasm_bindgen(js_name = lookupType)]
            pub fn lookup_type(&self, index: usize) -> Result<u16, JsValue> {
                Ok(self.inner.lookup(index)?.qtype.code())
            }

            #[doc = concat!("The ", $what, " as JSON, once `poll` said done.")]
            pub fn outcome(&mut self) -> Result<String, JsValue> {
                self.inner.outcome()
            }

            /// Answers with the records pushed since `setRecords`.
            #[wasm_bindgen(js_name = answerScratch)]
            pub fn answer_scratch(&mut self, id: u32) -> Result<(), JsValue> {
                let lent = std::mem::take(&mut self.inner.scratch);
                let result = self.inner.answer_lent(id, &lent);
                self.inner.scratch = lent;
                result
            }

            /// Answers with an answer converted once (`LentAnswer.from`).
            #[wasm_bindgen(js_name = answerLent)]
            pub fn answer_lent(&mut self, id: u32, answer: &RawAnswer) -> Result<(), JsValue> {
                self.inner.answer_lent(id, &answer.lent)
            }

            /// Answers NXDOMAIN.
            #[wasm_bindgen(js_name = answerNxdomain)]
            pub fn answer_nxdomain(&mut self, id: u32) -> Result<(), JsValue> {
                self.inner.answer(id, Answer::NxDomain)
            }

            /// Answers with a temporary failure.
            #[wasm_bindgen(js_name = answerTempfail)]
            pub fn answer_tempfail(&mut self, id: u32, reason: &str) -> Result<(), JsValue> {
                self.inner.answer(id, Answer::temp_fail(reason))
            }

            /// Answers with a raw DNS response message, decoded by the core.
            #[wasm_bindgen(js_name = answerWire)]
            pub fn answer_wire(&mut self, id: u32, message: &[u8]) -> Result<(), JsValue> {
                self.inner.answer_wire(id, message)
            }
        }
    };
}

// ---------------------------------------------------------------------------
// Evaluator

/// `check_host()` in progress: the core's sans-IO evaluator.
#[wasm_bindgen]
pub struct RawEvaluator {
    inner: Driven<Evaluator>,
}

#[wasm_bindgen]
impl RawEvaluator {
    /// Starts an evaluation of a request (by its fields) with `options` (JSON).
    #[wasm_bindgen(constructor)]
    pub fn new(
        ip: &str,
        mail_from: &str,
        helo: &str,
        receiver: Option<String>,
        now: f64,
        helo_identity: bool,
        options_json: &str,
    ) -> Result<RawEvaluator, JsValue> {
        let request = request(ip, mail_from, helo, receiver, now, helo_identity)?;
        let config = config(options_json, Config::default())?;
        Ok(RawEvaluator {
            inner: Driven::new(Evaluator::new(request, config)),
        })
    }

    /// Starts the next evaluation of a request (by its fields), keeping the buffers.
    pub fn restart(
        &mut self,
        ip: &str,
        mail_from: &str,
        helo: &str,
        receiver: Option<String>,
        now: f64,
        helo_identity: bool,
    ) -> Result<(), JsValue> {
        let request = request(ip, mail_from, helo, receiver, now, helo_identity)?;
        self.inner.engine.restart(&request);
        self.inner.handed.clear();
        self.inner.batch.clear();
        Ok(())
    }
}

answering!(RawEvaluator, "outcome");
filling!(RawEvaluator, inner.scratch);

// ---------------------------------------------------------------------------
// Policy

/// A compiled policy document.
#[wasm_bindgen]
pub struct RawPolicy {
    inner: Policy,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsDecisionRequest {
    ip: String,
    mail_from: String,
    helo: String,
    #[serde(default)]
    receiver: Option<String>,
    #[serde(default)]
    now: Option<u64>,
}

#[wasm_bindgen]
impl RawPolicy {
    /// Loads a JSON policy document.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &str) -> Result<RawPolicy, JsValue> {
        Policy::from_json(text)
            .map(|inner| RawPolicy { inner })
            .map_err(|e| policy_error(&e))
    }

    /// Loads a TOML policy document.
    #[wasm_bindgen(js_name = fromToml)]
    pub fn from_toml(text: &str) -> Result<RawPolicy, JsValue> {
        Policy::from_toml(text)
            .map(|inner| RawPolicy { inner })
            .map_err(|e| policy_error(&e))
    }

    /// Starts deciding `request` (JSON) with evaluator `options` (JSON).
    pub fn decide(&self, request_json: &str, options_json: &str) -> Result<RawDecision, JsValue> {
        let r: JsDecisionRequest = from_json(request_json, "invalid-request", "request")?;
        let mut request = DecisionRequest::new(parse_ip(&r.ip)?, &r.mail_from, &r.helo);
        request.receiver = r.receiver.unwrap_or_default();
        request.now = r.now.unwrap_or(0);
        let base = Config {
            trace: false,
            ..Config::default()
        };
        let config = config(options_json, base)?;
        Ok(RawDecision {
            inner: Driven::new(self.inner.decide_with(request, config)),
        })
    }
}

/// A policy decision in progress.
#[wasm_bindgen]
pub struct RawDecision {
    inner: Driven<spfgate::policy::Decision>,
}

answering!(RawDecision, "verdict");
filling!(RawDecision, inner.scratch);

// ---------------------------------------------------------------------------
// DNS messages

fn query_type(name: &str) -> Result<QueryType, JsValue> {
    QueryType::from_mnemonic(name).ok_or_else(|| {
        input_error(
            "invalid-type",
            format_args!("`{name}` is not one of A, AAAA, MX, TXT, PTR"),
        )
    })
}

/// A DNS query message for `name`/`qtype` with message id 0 (RFC 8484 §4.1), for
/// DNS-over-HTTPS. Throws `SpfInputError` code `invalid-name` for a name DNS cannot carry.
#[wasm_bindgen(js_name = encodeQuery)]
pub fn encode_query(name: &str, qtype: &str) -> Result<Vec<u8>, JsValue> {
    let lookup = Lookup {
        id: LookupId(0),
        name: name.to_owned(),
        qtype: query_type(qtype)?,
    };
    dns::wire::encode_query(&lookup, 0).map_err(|e| input_error("invalid-name", e))
}
