//! What a call put on the bus ([`PresentCost`]) and a panel's totals ([`PanelStats`]).

/// What one call put on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PresentCost {
    /// Bytes of acknowledged transactions: one address byte each plus the payload.
    pub bytes: u32,
    /// Acknowledged write transactions.
    pub transactions: u32,
    /// GDDRAM pages that received data.
    pub pages_touched: u8,
    /// Blocks of GDDRAM data sent (runs along a page or windows over several).
    pub windows: u32,
    /// The whole frame was sent because the panel's content was unknown (first contact, after a fault).
    pub full_refresh: bool,
    /// The panel was (re)initialised during this call; its bytes are included above.
    pub initialised: bool,
}

/// Running totals over the panel's life, for `inspect.stats` and benchmarks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PanelStats {
    /// Successful `present` calls, including those that sent nothing.
    pub updates: u64,
    /// Successful `present` calls whose frame was already on the panel.
    pub unchanged: u64,
    /// Acknowledged bytes (one address byte per transaction plus the payload), everything included
    /// (init, commands, data).
    pub bytes: u64,
    /// Acknowledged write transactions.
    pub transactions: u64,
    /// Calls that failed on the bus; an absent panel (address not acknowledged) is not counted.
    pub errors: u64,
    /// The last failure, bus error or absence.
    pub last_error: Option<String>,
    /// Presents that sent the whole frame.
    pub full_refreshes: u64,
    /// Initialisation sequences sent (first contact and recoveries).
    pub inits: u64,
}

pub(crate) fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}
