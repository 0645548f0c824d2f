//! WebAssembly bindings of spfgate, for the npm package `spfgate` (`pkg/`).
//!
//! Thin on purpose: every function converts JS-side text into core types, calls
//! the core, and converts the core's serialization back (object keys turned
//! from snake_case into camelCase). The package's JS wrapper (`pkg/index.js`)
//! checks argument types, turns the error descriptions thrown here into
//! `Error` subclasses, and runs the async resolver loop; nothing here does I/O.
//!
//! Values cross the boundary as JSON text: one string per call instead of one
//! boundary crossing per field. Errors are thrown as a JSON object
//! `{"name", "code", "message", ...}` in a JS string; `pkg/index.js` turns it
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

/// An error description thrown to JS: `pkg/index.js` builds the class `name`.
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

/// A core enum variant's name in kebab-case (`CidrTooLong { .. }` → `cidr-too-long`),
/// taken from its `Debug` form so that new variants get a code without a table here.
fn variant_code(kind: &impl std::fmt::Debug) -> String {
    let debug = format!("{kind:?}");
    let name = debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default();
    let mut code = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                code.push('-');
            }
            code.push(c.to_ascii_lowercase());
        } else {
            code.push(c);
        }
    }
    code
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
    error("SpfAnswerError", &variant_code(&e), &e, Value::Null)
}

fn policy_error(e: &PolicyError) -> JsValue {
    error(
        "SpfPolicyError",
        &variant_code(&*e.kind),
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
// Requests and options (JSON text from `JSON.stringify` in the wrapper)

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsRequest {
    ip: String,
    mail_from: String,
    helo: String,
    #[serde(default)]
    receiver: Option<String>,
    #[serde(default)]
    now: Option<u64>,
    #[serde(default)]
    identity: Option<JsIdentity>,
}

#[derive(Deserialize)]
enum JsIdentity {
    #[serde(rename = "mailFrom")]
    MailFrom,
    #[serde(rename = "helo")]
    Helo,
}

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

fn request(text: &str) -> Result<Request, JsValue> {
    let r: JsRequest = from_json(text, "invalid-request", "request")?;
    let mut request = Request::new(parse_ip(&r.ip)?, &r.mail_from, &r.helo);
    request.receiver = r.receiver.unwrap_or_default();
    request.now = r.now.unwrap_or(0);
    request.identity = match r.identity {
        None | Some(JsIdentity::MailFrom) => Identity::MailFrom,
        Some(JsIdentity::Helo) => Identity::Helo,
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

/// `{records: [...]}` for a lookup of `qtype` (the records as JSON text).
fn records_answer(qtype: QueryType, records: &str) -> Result<Answer, JsValue> {
    let list: Vec<Value> = serde_json::from_str(records)
        .map_err(|e| bad_answer(format_args!("records must be an array: {e}")))?;
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| bad_answer(format_args!("a {qtype} record must be a string, found {v}")))
    };
    let name = |v: &Value| text(v).map(|s| s.trim_end_matches('.').to_owned());
    let rdata = |v: &Value| -> Result<Rdata, JsValue> {
        Ok(match qtype {
            QueryType::A => Rdata::A(text(v)?.parse::<Ipv4Addr>().map_err(|_| {
                bad_answer(format_args!(
                    "an A record must be an IPv4 address, found {v}"
                ))
            })?),
            QueryType::Aaaa => Rdata::Aaaa(text(v)?.parse::<Ipv6Addr>().map_err(|_| {
                bad_answer(format_args!(
                    "an AAAA record must be an IPv6 address, found {v}"
                ))
            })?),
            QueryType::Ptr => Rdata::Ptr(name(v)?),
            QueryType::Txt => Rdata::Txt(match v {
                Value::Array(parts) => {
                    let mut joined = String::new();
                    for part in parts {
                        joined.push_str(&text(part)?);
                    }
                    joined.into_bytes()
                }
                v => text(v)?.into_bytes(),
            }),
            QueryType::Mx => {
                let bad = || {
                    bad_answer(format_args!(
                        "an MX record must be {{ preference: 0..65535, exchange: string }}, found {v}"
                    ))
                };
                let preference = v
                    .get("preference")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(bad)?;
                let exchange = v.get("exchange").ok_or_else(bad).and_then(name)?;
                Rdata::Mx {
                    preference,
                    exchange,
                }
            }
            other => return Err(bad_answer(format_args!("unsupported type {other}"))),
        })
    };
    list.iter()
        .map(rdata)
        .collect::<Result<_, _>>()
        .map(Answer::Records)
}

/// The lookups of a batch as `{"lookups":[{"id","name","type"}]}`.
fn lookups_json(batch: &[Lookup]) -> String {
    #[derive(Serialize)]
    struct Lookups<'a> {
        lookups: Vec<JsLookup<'a>>,
    }
    #[derive(Serialize)]
    struct JsLookup<'a> {
        id: u32,
        name: &'a str,
        #[serde(rename = "type")]
        qtype: &'static str,
    }
    let lookups: Vec<_> = batch
        .iter()
        .map(|l| JsLookup {
            id: l.id.0,
            name: &l.name,
            qtype: l.qtype.as_str(),
        })
        .collect();
    serde_json::to_string(&Lookups { lookups }).unwrap_or_default()
}

/// An engine of the core (evaluator or policy decision) with the type of each lookup
/// it handed out, by which record answers are read.
struct Driven<E> {
    engine: E,
    handed: HashMap<u32, QueryType>,
}

impl<E: Engine> Driven<E>
where
    E::Output: Serialize,
{
    fn new(engine: E) -> Self {
        Driven {
            engine,
            handed: HashMap::new(),
        }
    }

    /// The next step as JSON: `{"lookups": [...]}`, `{"pending": true}` or `{"done": ...}`.
    fn poll(&mut self) -> String {
        match self.engine.poll() {
            Step::Lookups(batch) => {
                self.handed.extend(batch.iter().map(|l| (l.id.0, l.qtype)));
                lookups_json(&batch)
            }
            Step::Pending => r#"{"pending":true}"#.to_owned(),
            Step::Done(value) => format!(r#"{{"done":{}}}"#, to_js_json(value)),
        }
    }

    fn answer(&mut self, id: u32, answer: Answer) -> Result<(), JsValue> {
        self.engine
            .answer(LookupId(id), answer)
            .map_err(answer_error)
    }

    fn answer_records(&mut self, id: u32, records_json: &str) -> Result<(), JsValue> {
        let qtype = *self
            .handed
            .get(&id)
            .ok_or_else(|| answer_error(AnswerError::UnknownId(LookupId(id))))?;
        self.answer(id, records_answer(qtype, records_json)?)
    }

    fn answer_wire(&mut self, id: u32, message: &[u8]) -> Result<(), JsValue> {
        self.engine
            .answer_wire(LookupId(id), message)
            .map_err(answer_error)
    }
}

/// The answering methods of an exported engine type, delegated to its `Driven` field.
macro_rules! answering {
    ($raw:ty, $what:literal) => {
        #[wasm_bindgen]
        impl $raw {
            #[doc = concat!("The next step as JSON: `{\"lookups\": [...]}`, `{\"pending\": true}` or `{\"done\": ", $what, "}`.")]
            pub fn poll(&mut self) -> String {
                self.inner.poll()
            }

            /// Answers with records (a JSON array, read according to the lookup's type).
            #[wasm_bindgen(js_name = answerRecords)]
            pub fn answer_records(&mut self, id: u32, records_json: &str) -> Result<(), JsValue> {
                self.inner.answer_records(id, records_json)
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
    /// Starts an evaluation of `request` (JSON) with `options` (JSON).
    #[wasm_bindgen(constructor)]
    pub fn new(request_json: &str, options_json: &str) -> Result<RawEvaluator, JsValue> {
        let request = request(request_json)?;
        let config = config(options_json, Config::default())?;
        Ok(RawEvaluator {
            inner: Driven::new(Evaluator::new(request, config)),
        })
    }

    /// Starts the next evaluation, keeping the buffers.
    pub fn restart(&mut self, request_json: &str) -> Result<(), JsValue> {
        let request = request(request_json)?;
        self.inner.engine.restart(&request);
        self.inner.handed.clear();
        Ok(())
    }
}

answering!(RawEvaluator, "outcome");

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

// ---------------------------------------------------------------------------
// DNS messages

fn query_type(name: &str) -> Result<QueryType, JsValue> {
    Ok(match name {
        "A" => QueryType::A,
        "AAAA" => QueryType::Aaaa,
        "MX" => QueryType::Mx,
        "TXT" => QueryType::Txt,
        "PTR" => QueryType::Ptr,
        other => {
            return Err(input_error(
                "invalid-type",
                format_args!("`{other}` is not one of A, AAAA, MX, TXT, PTR"),
            ));
        }
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
