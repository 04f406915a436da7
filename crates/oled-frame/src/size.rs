//! The glass sizes of an SSD1306-family module, shared by the provider (which drives one) and the
//! emulator (which models one), so configuration, stats and rendering agree on one list: the sizes the
//! `ssd1306` crate supports, with the same column offsets and COM wiring.

/// The glass attached to the controller. GDDRAM is 128x64 in every case; the glass decides which
/// columns (from [`PanelSize::column_offset`]) and rows show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum PanelSize {
    /// 128x64, the common 0.96" module.
    #[cfg_attr(feature = "serde", serde(rename = "128x64"))]
    W128xH64,
    /// 128x32, the 0.91" module.
    #[cfg_attr(feature = "serde", serde(rename = "128x32"))]
    W128xH32,
    /// 96x16, the 0.69" module.
    #[cfg_attr(feature = "serde", serde(rename = "96x16"))]
    W96xH16,
    /// 72x40, the 0.42" module: RAM columns 28-99.
    #[cfg_attr(feature = "serde", serde(rename = "72x40"))]
    W72xH40,
    /// 64x48, the 0.66" module (e.g. the Wemos D1 mini shield): RAM columns 32-95.
    #[cfg_attr(feature = "serde", serde(rename = "64x48"))]
    W64xH48,
}

impl PanelSize {
    /// Every size, in the order configuration errors list them.
    pub const ALL: [PanelSize; 5] = [
        PanelSize::W128xH64,
        PanelSize::W128xH32,
        PanelSize::W96xH16,
        PanelSize::W72xH40,
        PanelSize::W64xH48,
    ];

    /// Columns of the glass.
    pub fn width(self) -> u16 {
        match self {
            PanelSize::W128xH64 | PanelSize::W128xH32 => 128,
            PanelSize::W96xH16 => 96,
            PanelSize::W72xH40 => 72,
            PanelSize::W64xH48 => 64,
        }
    }

    /// Rows of the glass.
    pub fn height(self) -> u16 {
        match self {
            PanelSize::W128xH64 => 64,
            PanelSize::W128xH32 => 32,
            PanelSize::W96xH16 => 16,
            PanelSize::W72xH40 => 40,
            PanelSize::W64xH48 => 48,
        }
    }

    /// The first of the controller's 128 segments the glass is wired to: small modules wire the
    /// middle ones (the `ssd1306` crate's `OFFSETX`). With the segment remap on (the usual mounting)
    /// it is also the RAM column of the glass's first column; with it off, that is
    /// `128 - width - column_offset`.
    ///
    /// ```
    /// use oled_frame::PanelSize;
    /// assert_eq!(PanelSize::W72xH40.column_offset(), 28);
    /// assert_eq!(PanelSize::W72xH40.column_offset() * 2 + PanelSize::W72xH40.width(), 128);
    /// ```
    pub fn column_offset(self) -> u16 {
        match self {
            PanelSize::W128xH64 | PanelSize::W128xH32 | PanelSize::W96xH16 => 0,
            PanelSize::W72xH40 => 28,
            PanelSize::W64xH48 => 32,
        }
    }

    /// Whether the glass's rows are wired to the COM pins alternately (0xDA 0x12: even rows on
    /// COM0-31, odd on COM32-63) rather than in sequence (0xDA 0x02), as the modules are.
    pub fn com_alternative(self) -> bool {
        matches!(
            self,
            PanelSize::W128xH64 | PanelSize::W72xH40 | PanelSize::W64xH48
        )
    }

    /// As written in configuration: `128x64`, `128x32`, `96x16`, `72x40` or `64x48`.
    pub fn name(self) -> &'static str {
        match self {
            PanelSize::W128xH64 => "128x64",
            PanelSize::W128xH32 => "128x32",
            PanelSize::W96xH16 => "96x16",
            PanelSize::W72xH40 => "72x40",
            PanelSize::W64xH48 => "64x48",
        }
    }

    /// The size written as `128x64`, `72x40`, ... (any case), if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The size with these dimensions, if it is one.
    pub fn from_dimensions(width: u16, height: u16) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| (s.width(), s.height()) == (width, height))
    }
}

#[cfg(test)]
mod tests {
    use super::PanelSize;

    #[test]
    fn names_and_dimensions_round_trip() {
        for s in PanelSize::ALL {
            assert_eq!(PanelSize::from_name(s.name()), Some(s));
            assert_eq!(PanelSize::from_dimensions(s.width(), s.height()), Some(s));
        }
        assert_eq!(PanelSize::from_name(" 128X32 "), Some(PanelSize::W128xH32));
        assert_eq!(PanelSize::from_name("100x7"), None);
        assert_eq!(PanelSize::from_dimensions(96, 16), Some(PanelSize::W96xH16));
        assert_eq!(PanelSize::from_dimensions(64, 32), None);
        // The small glasses sit in the middle of the 128 segments.
        for s in [PanelSize::W72xH40, PanelSize::W64xH48] {
            assert_eq!(s.column_offset() * 2 + s.width(), 128, "{s:?}");
        }
    }
}
