//! The compiled policy: a checked document turned into accounts with their compiled
//! whitelists and one map from every normalized sender to its account.

use std::collections::HashMap;

use super::error::{AccountRef, PolicyError, PolicyErrorKind};
use super::locate::Seg;
#[cfg(feature = "policy-toml")]
use super::locate::line_column;
#[cfg(feature = "policy-json")]
use super::locate::locate_json;
#[cfg(feature = "policy-toml")]
use super::locate::locate_toml;
use super::schema::{Mode, PolicyDocument, WhitelistField};
use crate::policy::matcher::IpMatcher;
use crate::policy::whitelist::{Whitelist, parse_whitelist, parse_whitelist_lines};

/// Longest sender address accepted in a document: RFC 5321's 64-octet local
/// part, `@` and 255-octet domain.
pub const MAX_SENDER_LEN: usize = 320;

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
    /// # #[cfg(feature = "policy-toml")]
    /// # fn main() {
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
    /// # }
    /// # #[cfg(not(feature = "policy-toml"))]
    /// # fn main() {}
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
    let (local, domain) = strip_brackets(address).rsplit_once('@')?;
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

/// An address without the blanks and the angle brackets around it (`<a@b>`).
pub(crate) fn strip_brackets(address: &str) -> &str {
    let address = address.trim();
    address
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(address)
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
