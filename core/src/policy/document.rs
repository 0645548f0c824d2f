//! The policy document: the gateway's accounts, their senders and security
//! settings, as JSON or TOML, compiled into an immutable [`Policy`].
//!
//! ```json
//! {"authserv_id": "mx.gateway.example",
//!  "accounts": [{"id": "acme", "senders": ["alice@acme.example"],
//!                "security": {"mode": "restricted", "whitelist": "192.0.2.0/24\n2001:db8::/32"}}]}
//! ```
//!
//! Each account's `security.mode` is one of:
//!
//! | mode | accepts a listed sender when |
//! |------|------------------------------|
//! | `open` | always |
//! | `restricted` | the client is in the whitelist; with an empty whitelist, SPF passes |
//! | `ip-whitelist` | the client is in the whitelist; an empty whitelist accepts nobody |
//! | `spf` | SPF passes for the sender's domain |
//! | `ip-whitelist-or-spf` | the client is in the whitelist, or else SPF passes |
//!
//! `whitelist` is the settings field's raw text (entries separated by
//! newlines, blanks, commas or semicolons, `#` comments) or a list of strings,
//! each read like one line. It is parsed strictly in every mode, `open` and
//! `spf` included (they do not consult it), so switching modes later cannot
//! bring a broken list to life. An `ip-whitelist` account with an empty list
//! is accepted: it locks the account, and every decision for it is a reject
//! saying that the whitelist is empty.
//!
//! Senders are matched case-insensitively in the domain and, unless the
//! document sets `"local_part_case_sensitive": true`, in the local part too.
//! A sender listed by two accounts is an error. Loading builds one hash map
//! from every normalized sender to its account, so finding a sender's
//! account costs one hash lookup however many accounts there are.
//!
//! Errors name the account (its position and id), the field, and the line
//! and column in the document:
//!
//! ```
//! use spfgate::policy::document::Policy;
//!
//! let text = r#"{"authserv_id": "mx.gateway.example", "accounts": [
//!   {"id": "acme", "senders": ["alice@acme.example"],
//!    "security": {"mode": "ip-whitelist", "whitelist": "192.0.2.0/24\n01.2.3.4"}}]}"#;
//! let err = Policy::from_json(text).unwrap_err();
//! assert_eq!(err.to_string(),
//!     "line 3, column 54: account `acme` (accounts[0]), security.whitelist: \
//!      line 2, column 1 of the field: `01.2.3.4` — leading zero in `01` (some software reads it as octal)");
//! ```

use std::collections::HashMap;
use std::fmt;

#[cfg(feature = "serde")]
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::matcher::IpMatcher;
use super::whitelist::{Whitelist, WhitelistError, parse_whitelist, parse_whitelist_lines};

/// Longest sender address accepted in a document: RFC 5321's 64-octet local
/// part, `@` and 255-octet domain.
pub const MAX_SENDER_LEN: usize = 320;

/// The document as written, before checking. Build one in code and
/// [`Policy::compile`] it, or load text with [`Policy::from_json`] /
/// [`Policy::from_toml`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct PolicyDocument {
    /// The gateway's name in `Authentication-Results` (RFC 8601 authserv-id).
    pub authserv_id: String,
    /// Match the local part of sender addresses exactly instead of ignoring
    /// case (domains always ignore case).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub local_part_case_sensitive: bool,
    /// The accounts.
    pub accounts: Vec<AccountDocument>,
}

/// One account as written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct AccountDocument {
    /// Unique, non-empty name of the account.
    pub id: String,
    /// The sender addresses whose mail the account accepts.
    pub senders: Vec<String>,
    /// What else a sender's mail must satisfy.
    pub security: SecurityDocument,
}

/// An account's security settings as written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct SecurityDocument {
    /// How mail from a listed sender is checked.
    pub mode: Mode,
    /// The allowed client IPs; empty when absent.
    #[cfg_attr(feature = "serde", serde(default))]
    pub whitelist: WhitelistField,
}

/// How an account checks mail from its senders. See the module table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
#[non_exhaustive] // products grow new checks (e.g. DKIM); matches must not break.
pub enum Mode {
    /// A listed sender is enough.
    Open,
    /// The settings checkbox: whitelist when it has entries, SPF when empty.
    Restricted,
    /// Only whitelisted clients; an empty whitelist accepts nobody.
    IpWhitelist,
    /// SPF must pass.
    Spf,
    /// A whitelisted client, or else SPF must pass.
    IpWhitelistOrSpf,
}

impl Mode {
    /// The name used in documents (`ip-whitelist-or-spf`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Open => "open",
            Mode::Restricted => "restricted",
            Mode::IpWhitelist => "ip-whitelist",
            Mode::Spf => "spf",
            Mode::IpWhitelistOrSpf => "ip-whitelist-or-spf",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `whitelist` field: the text field's raw content or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged))]
#[non_exhaustive] // other shapes (e.g. objects with comments) may be accepted later.
pub enum WhitelistField {
    /// The raw text, as typed into the settings field.
    Text(String),
    /// One string per entry or line.
    Lines(Vec<String>),
}

impl Default for WhitelistField {
    fn default() -> Self {
        WhitelistField::Text(String::new())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for WhitelistField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = WhitelistField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the whitelist text (a string) or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WhitelistField::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(WhitelistField::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut lines = Vec::new();
                while let Some(line) = seq.next_element::<String>()? {
                    lines.push(line);
                }
                Ok(WhitelistField::Lines(lines))
            }
        }
        deserializer.deserialize_any(FieldVisitor)
    }
}

/// A checked, compiled policy. Immutable, `Send + Sync`: load it once and
/// share it (e.g. in an `Arc`) between every connection.
#[derive(Debug, Clone)]
pub struct Policy {
    authserv_id: String,
    local_part_case_sensitive: bool,
    accounts: Vec<Account>,
    senders: HashMap<String, usize>,
}

/// One compiled account.
#[derive(Debug, Clone)]
pub struct Account {
    id: String,
    mode: Mode,
    whitelist: Whitelist,
    matcher: IpMatcher,
}

/// What a compiled account checks, with the empty-whitelist cases resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Accept.
    Open,
    /// The client must be in the whitelist.
    Whitelist,
    /// `ip-whitelist` with an empty list: reject.
    Nobody,
    /// SPF must pass.
    Spf,
    /// Whitelist hit, or else SPF.
    WhitelistOrSpf,
}

impl Account {
    /// The account's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The mode as written in the document.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The checked whitelist (empty when none was given).
    pub fn whitelist(&self) -> &Whitelist {
        &self.whitelist
    }

    /// The compiled whitelist; [`IpMatcher::find`] gives an index into
    /// [`Whitelist::entries`].
    pub fn matcher(&self) -> &IpMatcher {
        &self.matcher
    }

    pub(crate) fn check(&self) -> Check {
        let listed = !self.whitelist.entries().is_empty();
        match (self.mode, listed) {
            (Mode::Open, _) => Check::Open,
            (Mode::Restricted | Mode::IpWhitelist, true) => Check::Whitelist,
            (Mode::IpWhitelist, false) => Check::Nobody,
            (Mode::Restricted | Mode::Spf | Mode::IpWhitelistOrSpf, false) | (Mode::Spf, true) => {
                Check::Spf
            }
            (Mode::IpWhitelistOrSpf, true) => Check::WhitelistOrSpf,
        }
    }
}

impl Policy {
    /// Loads and checks a JSON document.
    #[cfg(feature = "policy-json")]
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let doc: PolicyDocument = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
            PolicyError::syntax(message, e.line(), e.column())
        })?;
        Self::compile(doc).map_err(|e| e.located(text, locate_json))
    }

    /// Loads and checks a TOML document (`[[accounts]]` tables with a
    /// `security` sub-table).
    #[cfg(feature = "policy-toml")]
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let doc: PolicyDocument = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((0, 0), |span| line_column(text, span.start));
            PolicyError::syntax(e.message().to_owned(), line, column)
        })?;
        Self::compile(doc).map_err(|e| e.located(text, locate_toml))
    }

    /// Checks a document built in code. Errors carry the field path but no
    /// line or column.
    pub fn compile(doc: PolicyDocument) -> Result<Self, PolicyError> {
        if doc.authserv_id.trim().is_empty() {
            return Err(PolicyError::new(
                None,
                vec![Seg::Key("authserv_id")],
                PolicyErrorKind::EmptyAuthservId,
            ));
        }
        let sender_count = doc.accounts.iter().map(|a| a.senders.len()).sum();
        let mut senders: HashMap<String, usize> = HashMap::with_capacity(sender_count);
        let mut ids: HashMap<String, usize> = HashMap::with_capacity(doc.accounts.len());
        let mut accounts = Vec::with_capacity(doc.accounts.len());
        let case_sensitive = doc.local_part_case_sensitive;
        for (index, account) in doc.accounts.into_iter().enumerate() {
            let at = AccountRef {
                index,
                id: account.id.clone(),
            };
            let fail = |path: Vec<Seg>, kind| {
                let mut full = vec![Seg::Key("accounts"), Seg::Index(index)];
                full.extend(path);
                Err(PolicyError::new(Some(at.clone()), full, kind))
            };
            if account.id.trim().is_empty() {
                return fail(vec![Seg::Key("id")], PolicyErrorKind::EmptyAccountId);
            }
            if let Some(&first) = ids.get(&account.id) {
                return fail(
                    vec![Seg::Key("id")],
                    PolicyErrorKind::DuplicateAccount {
                        id: account.id,
                        first_index: first,
                    },
                );
            }
            for (i, sender) in account.senders.iter().enumerate() {
                let key = check_sender(sender).and_then(|()| {
                    normalize_address(sender, case_sensitive).ok_or("is not an address")
                });
                let key = match key {
                    Ok(key) => key,
                    Err(reason) => {
                        return fail(
                            vec![Seg::Key("senders"), Seg::Index(i)],
                            PolicyErrorKind::BadSender {
                                sender: sender.clone(),
                                reason,
                            },
                        );
                    }
                };
                match senders.get(&key) {
                    Some(&owner) if owner != index => {
                        return fail(
                            vec![Seg::Key("senders"), Seg::Index(i)],
                            PolicyErrorKind::DuplicateSender {
                                sender: key,
                                first_account: accounts
                                    .get(owner)
                                    .map_or_else(String::new, |a: &Account| a.id.clone()),
                                second_account: account.id.clone(),
                            },
                        );
                    }
                    Some(_) => {}
                    None => {
                        senders.insert(key, index);
                    }
                }
            }
            let parsed = match &account.security.whitelist {
                WhitelistField::Text(text) => parse_whitelist(text),
                WhitelistField::Lines(lines) => parse_whitelist_lines(lines),
            };
            let whitelist = match parsed.into_whitelist() {
                Ok(list) => list,
                Err(rejected) => {
                    let report = rejected.report;
                    let total = report.errors.len().saturating_add(report.errors_omitted);
                    let Some(error) = report.errors.into_iter().next() else {
                        return fail(
                            vec![Seg::Key("security"), Seg::Key("whitelist")],
                            PolicyErrorKind::Syntax {
                                message: format!("whitelist rejected with {total} error(s)"),
                            },
                        );
                    };
                    let mut path = vec![Seg::Key("security"), Seg::Key("whitelist")];
                    if matches!(account.security.whitelist, WhitelistField::Lines(_)) {
                        path.push(Seg::Index(error.line.saturating_sub(1)));
                    }
                    return fail(
                        path,
                        PolicyErrorKind::Whitelist {
                            error: Box::new(error),
                            more: total.saturating_sub(1),
                        },
                    );
                }
            };
            let matcher = IpMatcher::from(&whitelist);
            ids.insert(account.id.clone(), index);
            accounts.push(Account {
                id: account.id,
                mode: account.security.mode,
                whitelist,
                matcher,
            });
        }
        Ok(Policy {
            authserv_id: doc.authserv_id,
            local_part_case_sensitive: case_sensitive,
            accounts,
            senders,
        })
    }

    /// The gateway's name for `Authentication-Results`.
    pub fn authserv_id(&self) -> &str {
        &self.authserv_id
    }

    /// Whether local parts are matched exactly.
    pub fn local_part_case_sensitive(&self) -> bool {
        self.local_part_case_sensitive
    }

    /// The accounts in document order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The account listing `address` (angle brackets and surrounding blanks
    /// ignored), found with one hash lookup.
    ///
    /// ```
    /// use spfgate::policy::document::Policy;
    ///
    /// let policy = Policy::from_toml(r#"
    ///     authserv_id = "mx.gateway.example"
    ///     [[accounts]]
    ///     id = "acme"
    ///     senders = ["Alice@Acme.Example"]
    ///     security = { mode = "open" }
    /// "#).unwrap();
    /// assert_eq!(policy.find_sender("<ALICE@acme.example>").map(|a| a.id()), Some("acme"));
    /// assert!(policy.find_sender("bob@acme.example").is_none());
    /// ```
    pub fn find_sender(&self, address: &str) -> Option<&Account> {
        let key = normalize_address(address, self.local_part_case_sensitive)?;
        self.senders.get(&key).and_then(|&i| self.accounts.get(i))
    }

    /// Every normalized sender and the index of its account in
    /// [`accounts`](Self::accounts): the map [`find_sender`](Self::find_sender)
    /// reads, for audits and tooling.
    pub fn sender_map(&self) -> &HashMap<String, usize> {
        &self.senders
    }
}

/// A sender address as looked up: blanks and angle brackets removed, the
/// domain lower-cased and stripped of a trailing dot, the local part
/// lower-cased unless `case_sensitive`. `None` without a local part and a
/// domain around the last `@`.
///
/// ```
/// use spfgate::policy::document::normalize_address;
///
/// assert_eq!(normalize_address(" <Bob@Example.COM.> ", false).as_deref(), Some("bob@example.com"));
/// assert_eq!(normalize_address("Bob@Example.COM", true).as_deref(), Some("Bob@example.com"));
/// assert_eq!(normalize_address("<>", false), None);
/// ```
pub fn normalize_address(address: &str, case_sensitive: bool) -> Option<String> {
    let address = address.trim();
    let address = address
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(address);
    let (local, domain) = address.rsplit_once('@')?;
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    // One allocation: this runs for every MAIL FROM.
    let mut key = String::with_capacity(local.len() + 1 + domain.len());
    if case_sensitive {
        key.push_str(local);
    } else {
        key.extend(local.chars().flat_map(char::to_lowercase));
    }
    key.push('@');
    key.extend(domain.chars().flat_map(char::to_lowercase));
    Some(key)
}

/// Why a sender written in a document is not usable.
fn check_sender(sender: &str) -> Result<(), &'static str> {
    if sender.len() > MAX_SENDER_LEN {
        return Err("is longer than 320 bytes");
    }
    if sender.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains a blank or control character");
    }
    let Some((local, domain)) = sender.rsplit_once('@') else {
        return Err("is not an address: it has no `@`");
    };
    if local.is_empty() {
        return Err("has an empty local part before `@`");
    }
    if domain.trim_end_matches('.').is_empty() {
        return Err("has no domain after `@`");
    }
    Ok(())
}

/// Which account an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    /// Position in `accounts`, from 0.
    pub index: usize,
    /// The account's id as written.
    pub id: String,
}

/// A document that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line in the document text, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) in the document text, when known.
    pub column: Option<usize>,
    /// The account concerned, if any.
    pub account: Option<AccountRef>,
    /// The field, as a path from the document root: `accounts[3].senders[1]`.
    pub field: String,
    /// What is wrong (boxed to keep `Result<Policy, PolicyError>` small).
    pub kind: Box<PolicyErrorKind>,
    path: Vec<Seg>,
}

/// What is wrong with a policy document. `Display` gives the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive] // new checks may be added without breaking callers' matches.
pub enum PolicyErrorKind {
    /// The text is not valid JSON/TOML or does not have the document's shape.
    #[error("{message}")]
    Syntax {
        /// The parser's message.
        message: String,
    },
    /// `authserv_id` is empty.
    #[error("authserv_id must name this gateway (it is empty)")]
    EmptyAuthservId,
    /// An account without an id.
    #[error("the account id is empty")]
    EmptyAccountId,
    /// Two accounts with the same id.
    #[error("account id `{id}` is already used by accounts[{first_index}]")]
    DuplicateAccount {
        /// The id.
        id: String,
        /// Position of the first account using it.
        first_index: usize,
    },
    /// A sender that is not an address.
    #[error("sender `{sender}` {reason}")]
    BadSender {
        /// The sender as written.
        sender: String,
        /// Why.
        reason: &'static str,
    },
    /// A sender listed by two accounts.
    #[error(
        "sender `{sender}` is listed by account `{first_account}` and by account `{second_account}`"
    )]
    DuplicateSender {
        /// The normalized sender.
        sender: String,
        /// The account listing it first.
        first_account: String,
        /// The account listing it again.
        second_account: String,
    },
    /// The whitelist has errors; the first is given with its line and column
    /// inside the field (for a list: the string's index plus one).
    #[error("{} of the field: `{}` — {}{}", where_in_field(error), error.text, error.kind, more_errors(*more))]
    Whitelist {
        /// The first error.
        error: Box<WhitelistError>,
        /// How many more errors the whitelist has.
        more: usize,
    },
}

impl PolicyErrorKind {
    /// A stable kebab-case name of the variant (`syntax`, `empty-authserv-id`,
    /// `empty-account-id`, `duplicate-account`, `bad-sender`, `duplicate-sender`,
    /// `whitelist`), the `code` of the npm package's `SpfPolicyError`.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyErrorKind::Syntax { .. } => "syntax",
            PolicyErrorKind::EmptyAuthservId => "empty-authserv-id",
            PolicyErrorKind::EmptyAccountId => "empty-account-id",
            PolicyErrorKind::DuplicateAccount { .. } => "duplicate-account",
            PolicyErrorKind::BadSender { .. } => "bad-sender",
            PolicyErrorKind::DuplicateSender { .. } => "duplicate-sender",
            PolicyErrorKind::Whitelist { .. } => "whitelist",
        }
    }
}

fn where_in_field(error: &WhitelistError) -> String {
    format!("line {}, column {}", error.line, error.column)
}

fn more_errors(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more error)".to_owned(),
        n => format!(" (and {n} more errors)"),
    }
}

impl PolicyError {
    fn new(account: Option<AccountRef>, path: Vec<Seg>, kind: PolicyErrorKind) -> Self {
        PolicyError {
            line: None,
            column: None,
            account,
            field: render_path(&path),
            kind: Box::new(kind),
            path,
        }
    }

    #[cfg(any(feature = "policy-json", feature = "policy-toml"))]
    fn syntax(message: String, line: usize, column: usize) -> Self {
        let known = line > 0;
        PolicyError {
            line: known.then_some(line),
            column: known.then_some(column),
            account: None,
            field: String::new(),
            kind: Box::new(PolicyErrorKind::Syntax { message }),
            path: Vec::new(),
        }
    }

    #[cfg(any(feature = "policy-json", feature = "policy-toml"))]
    /// Adds the line and column of the field, found by `locate`.
    fn located(mut self, text: &str, locate: fn(&str, &[Seg]) -> Option<usize>) -> Self {
        if let Some(offset) = locate(text, &self.path) {
            let (line, column) = line_column(text, offset);
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "line {line}, column {column}: ")?;
        }
        match &self.account {
            Some(account) => {
                let prefix = format!("accounts[{}]", account.index);
                let field = self.field.strip_prefix(&prefix).unwrap_or(&self.field);
                let field = field.strip_prefix('.').unwrap_or(field);
                write!(f, "account `{}` ({prefix})", account.id)?;
                if !field.is_empty() {
                    write!(f, ", {field}")?;
                }
                f.write_str(": ")?;
            }
            None if !self.field.is_empty() => write!(f, "{}: ", self.field)?,
            None => {}
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for PolicyError {}

/// One step of a path into the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(any(feature = "policy-json", feature = "policy-toml"))]
/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(feature = "policy-toml")]
/// Byte offset of the value at `path` in a TOML document.
fn locate_toml(text: &str, path: &[Seg]) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut span = root.span();
    let mut value = toml::de::DeValue::Table(root.into_inner());
    for seg in path {
        let next = match seg {
            Seg::Key(k) => value.get(*k)?,
            Seg::Index(i) => value.get(*i)?,
        };
        span = next.span();
        value = next.get_ref().clone();
    }
    Some(span.start)
}

#[cfg(feature = "policy-json")]
/// Byte offset of the value at `path` in a JSON document that serde_json
/// already accepted (so the scan can stop at anything unexpected).
fn locate_json(text: &str, path: &[Seg]) -> Option<usize> {
    let b = text.as_bytes();
    let mut pos = skip_ws(b, 0);
    for seg in path {
        match (seg, b.get(pos)?) {
            (Seg::Key(want), b'{') => {
                pos += 1;
                loop {
                    pos = skip_ws(b, pos);
                    let key_end = skip_string(b, pos)?;
                    let key = text.get(pos + 1..key_end - 1)?;
                    pos = skip_ws(b, key_end);
                    if b.get(pos) != Some(&b':') {
                        return None;
                    }
                    pos = skip_ws(b, pos + 1);
                    if key == *want {
                        break;
                    }
                    pos = skip_ws(b, skip_value(b, pos)?);
                    if b.get(pos) != Some(&b',') {
                        return None;
                    }
                    pos += 1;
                }
            }
            (Seg::Index(want), b'[') => {
                pos = skip_ws(b, pos + 1);
                for _ in 0..*want {
                    pos = skip_ws(b, skip_value(b, pos)?);
                    if b.get(pos) != Some(&b',') {
                        return None;
                    }
                    pos = skip_ws(b, pos + 1);
                }
            }
            _ => return None,
        }
    }
    Some(pos)
}

#[cfg(feature = "policy-json")]
fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos).is_some_and(|c| c.is_ascii_whitespace()) {
        pos += 1;
    }
    pos
}

#[cfg(feature = "policy-json")]
/// End (one past the closing quote) of the string starting at `pos`.
fn skip_string(b: &[u8], pos: usize) -> Option<usize> {
    if b.get(pos) != Some(&b'"') {
        return None;
    }
    let mut i = pos + 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

#[cfg(feature = "policy-json")]
/// End of the value starting at `pos`.
fn skip_value(b: &[u8], pos: usize) -> Option<usize> {
    match b.get(pos)? {
        b'"' => skip_string(b, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            loop {
                match b.get(i)? {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = pos;
            while b
                .get(i)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "policy-json")]
    #[test]
    fn json_locator_finds_nested_values() {
        let text =
            r#"{ "a": [1, {"x": "y,]}"}, [2, 3]], "accounts" : [ {"id":"q"}, {"id" : "r"} ] }"#;
        let at = locate_json(text, &[Seg::Key("accounts"), Seg::Index(1), Seg::Key("id")]);
        assert_eq!(at.and_then(|i| text.get(i..i + 3)), Some("\"r\""));
        assert_eq!(locate_json(text, &[Seg::Key("missing")]), None);
        assert_eq!(
            locate_json(text, &[Seg::Key("accounts"), Seg::Index(5)]),
            None
        );
    }

    #[cfg(any(feature = "policy-json", feature = "policy-toml"))]
    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé\nd", 0), (1, 1));
        assert_eq!(line_column("ab\ncé\nd", 3), (2, 1));
        assert_eq!(line_column("ab\ncé\nd", 7), (3, 1));
        assert_eq!(line_column("ab\ncé\nd", 6), (2, 3));
    }
}
