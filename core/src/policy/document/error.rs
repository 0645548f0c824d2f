//! Why a document cannot be loaded: the account, the field and, for text, the line
//! and column.

use std::fmt;

#[cfg(any(feature = "policy-json", feature = "policy-toml"))]
use super::locate::line_column;
use super::locate::{Seg, render_path};
use crate::policy::whitelist::WhitelistError;

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
    pub(super) fn new(account: Option<AccountRef>, path: Vec<Seg>, kind: PolicyErrorKind) -> Self {
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
    pub(super) fn syntax(message: String, line: usize, column: usize) -> Self {
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
    pub(super) fn located(mut self, text: &str, locate: fn(&str, &[Seg]) -> Option<usize>) -> Self {
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
