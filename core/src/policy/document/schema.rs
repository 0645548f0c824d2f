//! The document as written: the shape of its JSON and TOML, read by serde.

use std::fmt;

#[cfg(feature = "serde")]
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// The document as written, before checking. Build one in code and
/// [`Policy::compile`] it, or load text with [`Policy::from_json`] /
/// [`Policy::from_toml`].
///
/// [`Policy::compile`]: super::Policy::compile
/// [`Policy::from_json`]: super::Policy::from_json
/// [`Policy::from_toml`]: super::Policy::from_toml
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
