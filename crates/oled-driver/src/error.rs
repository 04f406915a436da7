//! Why a panel call failed.

use embedded_hal::i2c::ErrorKind;

/// Why a panel call failed. A bus error keeps the bus's own [`ErrorKind`], so a caller can tell a
/// lost arbitration from a NACK without parsing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PanelError {
    /// The frame does not have the panel's logical size.
    #[error("bad frame: {0}")]
    BadFrame(String),
    /// The bus reported an error; the panel will be re-initialised and fully redrawn on the next call.
    #[error("bus error: {detail}")]
    Bus {
        /// What the bus said, as embedded-hal classifies it.
        kind: ErrorKind,
        /// The bus's error, with the panel's address.
        detail: String,
    },
    /// The configured bus or panel is not there (nothing acknowledges the address, or no bus).
    #[error("panel absent: {0}")]
    Absent(String),
    /// An argument or configuration out of range.
    #[error("invalid: {0}")]
    Invalid(String),
}

impl PanelError {
    /// A bus error of `kind` with `detail`.
    pub fn bus(kind: ErrorKind, detail: impl Into<String>) -> Self {
        PanelError::Bus {
            kind,
            detail: detail.into(),
        }
    }
}
