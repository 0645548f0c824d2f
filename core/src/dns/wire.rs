//! DNS wire format (placeholder until the wire module lands).
use super::{Answer, Lookup};

/// Why a response could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// TC bit.
    #[error("truncated")]
    Truncated,
}
impl WireError {
    /// As a temporary failure.
    pub fn into_answer(self) -> Answer {
        Answer::TempFail(self.to_string())
    }
}
/// Decodes.
pub fn decode_response(_l: &Lookup, _id: Option<u16>, _b: &[u8]) -> Result<Answer, WireError> {
    Err(WireError::Truncated)
}
