//! The glass sizes of an SSD1306 module, shared by the provider (which drives one) and the emulator
//! (which models one), so configuration, stats and rendering agree on one list.

/// The glass attached to the controller. GDDRAM is 128x64 either way; the glass decides which rows show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum PanelSize {
    /// 128x64, the common 0.96" module.
    #[cfg_attr(feature = "serde", serde(rename = "128x64"))]
    W128xH64,
    /// 128x32, the 0.91" module.
    #[cfg_attr(feature = "serde", serde(rename = "128x32"))]
    W128xH32,
}

impl PanelSize {
    /// Every size, in the order configuration errors list them.
    pub const ALL: [PanelSize; 2] = [PanelSize::W128xH64, PanelSize::W128xH32];

    /// GDDRAM columns in use.
    pub fn width(self) -> u16 {
        128
    }

    /// Rows of the glass.
    pub fn height(self) -> u16 {
        match self {
            PanelSize::W128xH64 => 64,
            PanelSize::W128xH32 => 32,
        }
    }

    /// As written in configuration: `128x64` or `128x32`.
    pub fn name(self) -> &'static str {
        match self {
            PanelSize::W128xH64 => "128x64",
            PanelSize::W128xH32 => "128x32",
        }
    }

    /// The size written as `128x64` / `128x32` (any case), if it is one.
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
        assert_eq!(PanelSize::from_dimensions(96, 16), None);
    }
}
