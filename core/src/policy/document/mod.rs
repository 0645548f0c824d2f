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
//! # #[cfg(feature = "policy-json")]
//! # fn main() {
//! use spfgate::policy::document::Policy;
//!
//! let text = r#"{"authserv_id": "mx.gateway.example", "accounts": [
//!   {"id": "acme", "senders": ["alice@acme.example"],
//!    "security": {"mode": "ip-whitelist", "whitelist": "192.0.2.0/24\n01.2.3.4"}}]}"#;
//! let err = Policy::from_json(text).unwrap_err();
//! assert_eq!(err.to_string(),
//!     "line 3, column 54: account `acme` (accounts[0]), security.whitelist: \
//!      line 2, column 1 of the field: `01.2.3.4` — leading zero in `01` (some software reads it as octal)");
//! # }
//! # #[cfg(not(feature = "policy-json"))]
//! # fn main() {}
//! ```

mod compile;
mod error;
mod locate;
mod schema;

pub use self::compile::{Account, MAX_SENDER_LEN, Policy, normalize_address};
pub(crate) use self::compile::{Check, strip_brackets};
pub use self::error::{AccountRef, PolicyError, PolicyErrorKind};
pub use self::schema::{AccountDocument, Mode, PolicyDocument, SecurityDocument, WhitelistField};
