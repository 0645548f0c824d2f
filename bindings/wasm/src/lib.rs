//! WebAssembly bindings of spfgate, for the npm package `spfgate` (`pkg/`).
//!
//! Thin on purpose: every function converts JS-side text into core types, calls
//! the core, and converts the core's serialization back (object keys turned
//! from snake_case into camelCase). The package's JS wrapper (`pkg/api.js`)
//! checks argument types, turns the error descriptions thrown here into
//! `Error` subclasses, and runs the async resolver loop; nothing here does I/O.
//!
//! An evaluation's hot path crosses the boundary with numbers and strings only:
//! request fields in; records pushed one by one into the engine's scratch answer
//! or lent from a [`RawAnswer`] converted once; a batch's lookups and the
//! outcome out through a `View` the wrapper reads from the module's memory
//! (numbers, and one text for all strings). Answering calls return a status
//! number rather than a `Result`. Options, policy requests, traces, verdicts
//! and reports cross as JSON text, once per call. Errors are thrown (or kept
//! for `takeError`) as a JSON object `{"name", "code", "message", ...}` in a JS
//! string; `pkg/api.js` turns it into the named error class.
#![forbid(unsafe_code)]

use std::fmt::{Display, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spfgate::dns::{self, Answer, AnswerError, Engine, Lookup, LookupId, QueryType, Rdata, Step};
use spfgate::eval::{Config, Evaluator, Identity, Limits, Request, SpfResult, VoidCounting};
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
    let mut request = Request::new(Ipv4Addr::UNSPECIFIED.into(), "", "");
    let receiver = receiver.unwrap_or_default();
    refill(
        &mut request,
        [ip, mail_from, helo, &receiver],
        now,
        helo_identity,
    )?;
    Ok(request)
}

/// Overwrites `request` with the fields `[ip, mail_from, helo, receiver]` (no
/// receiver when empty), keeping its buffers; unchanged when the IP is bad.
fn refill(
    request: &mut Request,
    [ip, mail_from, helo, receiver]: [&str; 4],
    now: f64,
    helo_identity: bool,
) -> Result<(), JsValue> {
    request.ip = parse_ip(ip)?;
    for (field, value) in [
        (&mut request.mail_from, mail_from),
        (&mut request.helo, helo),
        (&mut request.receiver, receiver),
    ] {
        field.clear();
        field.push_str(value);
    }
    // Saturating: the wrapper passes integers in 0..2^64 only.
    request.now = now as u64;
    request.identity = if helo_identity {
        Identity::Helo
    } else {
        Identity::MailFrom
    };
    Ok(())
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
    Records(Records),
    Wire(Vec<u8>),
}

/// The records of a `{records: [...]}` answer, with their conversion for the type
/// of the lookup they last answered (kept: a lent answer mostly answers one type).
#[derive(Default)]
struct Records {
    items: Vec<Item>,
    converted: Option<(QueryType, Answer)>,
}

impl Records {
    fn clear(&mut self) {
        self.items.clear();
        self.converted = None;
    }

    fn push(&mut self, item: Item) {
        self.items.push(item);
        self.converted = None;
    }

    /// The records as an answer to a lookup of `qtype`.
    fn answer(&mut self, qtype: QueryType) -> Result<&Answer, JsValue> {
        let converted = match self.converted.take() {
            Some((t, answer)) if t == qtype => answer,
            _ => Answer::Records(
                self.items
                    .iter()
                    .map(|item| item.rdata(qtype))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(&self.converted.insert((qtype, converted)).1)
    }
}

impl Lent {
    fn set_records(&mut self) {
        match self {
            Lent::Records(records) => records.clear(),
            other => *other = Lent::Records(Records::default()),
        }
    }

    fn push(&mut self, item: Item) {
        match self {
            Lent::Records(records) => records.push(item),
            other => {
                let mut records = Records::default();
                records.push(item);
                *other = Lent::Records(records);
            }
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
                self.$($field).+.set_records();
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

/// What the wrapper reads from the module's memory after `poll` (a batch) or
/// `outcomeView` (an outcome): `words`, whose first two are the address and byte
/// length of `text`, then numbers that say how to read it. One view per engine,
/// overwritten by each call that fills it; strings of `text` are measured in
/// bytes (the wrapper slices the decoded text by them when it is ASCII, and
/// decodes each string apart when it is not).
#[derive(Default)]
struct View {
    words: Vec<u32>,
    text: String,
}

impl View {
    /// Empties the view, keeping two words for `seal`.
    fn clear(&mut self) {
        self.words.clear();
        self.words.extend([0, 0]);
        self.text.clear();
    }

    /// Appends `s` to the text and its length to the words.
    fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
        self.words.push(s.len() as u32);
    }

    /// Appends `value`'s `Display` text to the text and its length to the words.
    fn push_display(&mut self, value: &impl Display) {
        let start = self.text.len();
        // Writing into a String does not fail.
        let _ = write!(self.text, "{value}");
        self.words.push((self.text.len() - start) as u32);
    }

    /// Puts the text's address and length into the first two words.
    fn seal(&mut self) {
        // Addresses fit in u32 on wasm32, the only target the wrapper loads.
        let head = [self.text.as_ptr() as usize as u32, self.text.len() as u32];
        if let Some(words) = self.words.get_mut(..2) {
            words.copy_from_slice(&head);
        }
    }

    fn address(&self) -> u32 {
        self.words.as_ptr() as usize as u32
    }
}

/// The module's memory, through which engines hand their views to the wrapper.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// An engine of the core (evaluator or policy decision) with the type of each lookup
/// it handed out, by which record answers are read, the view of its last batch or
/// outcome, the scratch space of plain answers, and the error of the last call that
/// returned a failure status.
struct Driven<E> {
    engine: E,
    handed: Vec<(u32, QueryType)>,
    view: View,
    scratch: Lent,
    thrown: Option<JsValue>,
}

impl<E: Engine> Driven<E>
where
    E::Output: Serialize,
{
    fn new(engine: E) -> Self {
        Driven {
            engine,
            handed: Vec::new(),
            view: View::default(),
            scratch: Lent::default(),
            thrown: None,
        }
    }

    /// The next step: the number of lookups in a new batch (in the view: per lookup
    /// its id, TYPE code and the length of its name in the text), -1 for pending, -2
    /// for done (read with `outcome`).
    fn poll(&mut self) -> i32 {
        match self.engine.poll() {
            Step::Lookups(batch) => {
                self.view.clear();
                for lookup in &batch {
                    self.handed.push((lookup.id.0, lookup.qtype));
                    self.view.words.push(lookup.id.0);
                    self.view.words.push(lookup.qtype.code().into());
                    self.view.push_str(&lookup.name);
                }
                self.view.seal();
                i32::try_from(batch.len()).unwrap_or(i32::MAX)
            }
            Step::Pending => -1,
            Step::Done(_) => -2,
        }
    }

    fn outcome(&mut self) -> Result<String, JsValue> {
        match self.engine.poll() {
            Step::Done(value) => Ok(to_js_json(value)),
            _ => Err(not_done()),
        }
    }

    /// 0 for `Ok`; 1 for `Err`, whose error `take_error` then gives.
    fn status(&mut self, result: Result<(), JsValue>) -> u32 {
        match result {
            Ok(()) => 0,
            Err(e) => {
                self.thrown = Some(e);
                1
            }
        }
    }

    fn answer(&mut self, id: u32, answer: &Answer) -> Result<(), JsValue> {
        self.engine
            .answer(LookupId(id), answer)
            .map_err(answer_error)
    }

    fn answer_wire(&mut self, id: u32, message: &[u8]) -> Result<(), JsValue> {
        self.engine
            .answer_wire(LookupId(id), message)
            .map_err(answer_error)
    }

    fn answer_lent(&mut self, id: u32, lent: &mut Lent) -> Result<(), JsValue> {
        match lent {
            Lent::NxDomain => self.answer(id, &Answer::NxDomain),
            Lent::TempFail(reason) => self.answer(id, &Answer::temp_fail(reason.as_str())),
            Lent::Wire(message) => self.answer_wire(id, message),
            Lent::Records(records) => {
                let qtype = self
                    .handed
                    .iter()
                    .rev()
                    .find(|(handed, _)| *handed == id)
                    .map(|&(_, qtype)| qtype)
                    .ok_or_else(|| answer_error(AnswerError::UnknownId(LookupId(id))))?;
                self.answer(id, records.answer(qtype)?)
            }
        }
    }
}

fn not_done() -> JsValue {
    error(
        "SpfError",
        "internal",
        "the engine is not done",
        Value::Null,
    )
}

/// The answering methods of an exported engine type, delegated to its `Driven` field.
/// Answering methods return a status (0, or 1 with the error kept for `takeError`),
/// so that the common case returns a plain number.
macro_rules! answering {
    ($raw:ty, $what:literal) => {
        #[wasm_bindgen]
        impl $raw {
            /// The next step: the number of lookups of a new batch (read through
            /// `view`), -1 for pending, -2 for done.
            pub fn poll(&mut self) -> i32 {
                self.inner.poll()
            }

            /// The address of the view the last `poll` (or `outcomeView`) filled.
            pub fn view(&self) -> u32 {
                self.inner.view.address()
            }

            /// The error of the last call that returned status 1.
            #[wasm_bindgen(js_name = takeError)]
            pub fn take_error(&mut self) -> JsValue {
                self.inner.thrown.take().unwrap_or(JsValue::UNDEFINED)
            }

            #[doc = concat!("The ", $what, " as JSON, once `poll` said done.")]
            pub fn outcome(&mut self) -> Result<String, JsValue> {
                self.inner.outcome()
            }

            /// Answers with the records pushed since `setRecords`.
            #[wasm_bindgen(js_name = answerScratch)]
            pub fn answer_scratch(&mut self, id: u32) -> u32 {
                let mut lent = std::mem::take(&mut self.inner.scratch);
                let result = self.inner.answer_lent(id, &mut lent);
                self.inner.scratch = lent;
                self.inner.status(result)
            }

            /// Answers with an answer converted once (`LentAnswer.from`).
            #[wasm_bindgen(js_name = answerLent)]
            pub fn answer_lent(&mut self, id: u32, answer: &mut RawAnswer) -> u32 {
                let result = self.inner.answer_lent(id, &mut answer.lent);
                self.inner.status(result)
            }

            /// Answers NXDOMAIN.
            #[wasm_bindgen(js_name = answerNxdomain)]
            pub fn answer_nxdomain(&mut self, id: u32) -> u32 {
                let result = self.inner.answer(id, &Answer::NxDomain);
                self.inner.status(result)
            }

            /// Answers with a temporary failure.
            #[wasm_bindgen(js_name = answerTempfail)]
            pub fn answer_tempfail(&mut self, id: u32, reason: &str) -> u32 {
                let result = self.inner.answer(id, &Answer::temp_fail(reason));
                self.inner.status(result)
            }

            /// Answers with a raw DNS response message, decoded by the core.
            #[wasm_bindgen(js_name = answerWire)]
            pub fn answer_wire(&mut self, id: u32, message: &[u8]) -> u32 {
                let result = self.inner.answer_wire(id, message);
                self.inner.status(result)
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
    /// The request of the last restart, whose buffers the next one reuses.
    request: Request,
    /// Where the wrapper writes the fields of the next request (`input`).
    input: Vec<u8>,
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
            inner: Driven::new(Evaluator::new(request.clone(), config)),
            request,
            input: Vec::new(),
        })
    }

    /// The address of room for at least `capacity` bytes, into which the wrapper
    /// writes the UTF-8 fields of the next request for `restart`.
    pub fn input(&mut self, capacity: usize) -> u32 {
        if self.input.len() < capacity {
            self.input.resize(capacity, 0);
        }
        self.input.as_ptr() as usize as u32
    }

    /// Starts the next evaluation, keeping the buffers, of the request whose `ip`,
    /// `mailFrom`, `helo` and `receiver` (none when empty) the wrapper wrote one
    /// after the other into the input, with these byte lengths. Returns a status,
    /// as the answering methods do.
    pub fn restart(
        &mut self,
        ip: usize,
        mail_from: usize,
        helo: usize,
        receiver: usize,
        now: f64,
        helo_identity: bool,
    ) -> u32 {
        let result = self.restart_input([ip, mail_from, helo, receiver], now, helo_identity);
        self.inner.status(result)
    }

    fn restart_input(
        &mut self,
        lengths: [usize; 4],
        now: f64,
        helo_identity: bool,
    ) -> Result<(), JsValue> {
        let mut fields = [""; 4];
        let mut rest = self.input.as_slice();
        for (field, length) in fields.iter_mut().zip(lengths) {
            let (bytes, after) = rest
                .split_at_checked(length)
                .ok_or_else(|| input_error("internal", "request fields beyond the input"))?;
            *field = std::str::from_utf8(bytes)
                .map_err(|_| input_error("internal", "request fields are not UTF-8"))?;
            rest = after;
        }
        refill(&mut self.request, fields, now, helo_identity)?;
        self.inner.engine.restart(&self.request);
        self.inner.handed.clear();
        Ok(())
    }

    /// Fills the view with the outcome, once `poll` said done, and returns a status.
    /// After the text's address and length, the words are: the result (index into
    /// `RESULTS` in the wrapper), flags (1 explanation, 2 mechanism, 4 problem, 8 a
    /// trace to read with `outcomeTrace`), `lookups`, `voidLookups`, `queries`,
    /// `roundTrips`, then the lengths of `reason`, `explanation`, `mechanism`,
    /// `domain` and `problem` in the text, in this order (0 when absent).
    #[wasm_bindgen(js_name = outcomeView)]
    pub fn outcome_view(&mut self) -> u32 {
        let Some(outcome) = self.inner.engine.outcome() else {
            self.inner.thrown = Some(not_done());
            return 1;
        };
        let view = &mut self.inner.view;
        view.clear();
        let flags = u32::from(outcome.explanation.is_some())
            | u32::from(outcome.mechanism.is_some()) << 1
            | u32::from(outcome.problem.is_some()) << 2
            | u32::from(!outcome.trace.is_empty()) << 3;
        view.words.extend([
            result_index(outcome.result),
            flags,
            outcome.dns_terms,
            outcome.void_lookups,
            outcome.queries,
            outcome.round_trips,
        ]);
        view.push_str(&outcome.reason());
        view.push_str(outcome.explanation.as_deref().unwrap_or_default());
        view.push_str(outcome.mechanism.as_deref().unwrap_or_default());
        view.push_str(&outcome.domain);
        match &outcome.problem {
            Some(problem) => view.push_display(problem),
            None => view.push_str(""),
        }
        view.seal();
        0
    }

    /// The outcome's trace as JSON (as in `outcome`), once `poll` said done.
    #[wasm_bindgen(js_name = outcomeTrace)]
    pub fn outcome_trace(&self) -> Result<String, JsValue> {
        let outcome = self.inner.engine.outcome().ok_or_else(not_done)?;
        Ok(to_js_json(&outcome.trace))
    }
}

/// The position of a result in the wrapper's `RESULTS` table (pkg/api.js).
fn result_index(result: SpfResult) -> u32 {
    match result {
        SpfResult::None => 0,
        SpfResult::Neutral => 1,
        SpfResult::Pass => 2,
        SpfResult::Fail => 3,
        SpfResult::SoftFail => 4,
        SpfResult::TempError => 5,
        SpfResult::PermError => 6,
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
