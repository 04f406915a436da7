//! What a panel is: its controller, size, address, rotation, contrast and how it starts
//! ([`PanelSettings`]), and the geometry that follows from them.

use oled_frame::PanelSize;
use ssd1306::prelude::DisplayRotation;

use crate::plan::Cursor;

/// The contrast the `ssd1306` driver's init sets (`Brightness::NORMAL`). Configuring it costs nothing
/// extra at init; any other level adds one brightness update (two command transactions).
pub const DEFAULT_CONTRAST: u8 = 0x5F;
/// Pre-charge phase 2 sent with every contrast change, as the driver's predefined levels use.
pub(crate) const PRECHARGE: u8 = 2;

/// Hardware rotation, as the `ssd1306` crate applies it (segment remap and COM scan direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Rotation {
    /// Upright, landscape.
    #[default]
    Deg0,
    /// A quarter turn clockwise: portrait.
    Deg90,
    /// Upside down.
    Deg180,
    /// A quarter turn anticlockwise: portrait.
    Deg270,
}

impl Rotation {
    /// 0, 90, 180 or 270 degrees; anything else is not a rotation.
    pub fn from_degrees(degrees: u16) -> Option<Self> {
        match degrees {
            0 => Some(Rotation::Deg0),
            90 => Some(Rotation::Deg90),
            180 => Some(Rotation::Deg180),
            270 => Some(Rotation::Deg270),
            _ => None,
        }
    }

    /// The rotation in degrees.
    pub fn degrees(self) -> u16 {
        match self {
            Rotation::Deg0 => 0,
            Rotation::Deg90 => 90,
            Rotation::Deg180 => 180,
            Rotation::Deg270 => 270,
        }
    }

    /// Portrait: the logical frame is the GDDRAM transposed.
    pub fn is_portrait(self) -> bool {
        matches!(self, Rotation::Deg90 | Rotation::Deg270)
    }

    pub(crate) fn driver(self) -> DisplayRotation {
        match self {
            Rotation::Deg0 => DisplayRotation::Rotate0,
            Rotation::Deg90 => DisplayRotation::Rotate90,
            Rotation::Deg180 => DisplayRotation::Rotate180,
            Rotation::Deg270 => DisplayRotation::Rotate270,
        }
    }
}

/// The controller chip on the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Controller {
    /// SSD1306: initialised through the `ssd1306` crate; page and horizontal addressing.
    #[default]
    Ssd1306,
    /// SH1106 (what many "SSD1306" modules really carry): 132-column RAM, page addressing only;
    /// the glass starts at RAM column `column_offset` (2 on most modules, 0 on some).
    Sh1106 {
        /// RAM column of the glass's first column.
        column_offset: u8,
    },
    /// SSD1309: the SSD1306's addressing for a 128x64 glass with its own VCC (no charge pump) and
    /// a command lock; initialised in one transaction that unlocks it first.
    Ssd1309,
}

impl PanelSettings {
    /// The pointer state of this panel's controller with nothing known. A small SSD1306 glass
    /// starts at a RAM column that depends on the mounting: its first segment with the segment
    /// remap on (0 and 270 degrees), mirrored with it off, as the `ssd1306` crate addresses it.
    pub(crate) fn cursor(&self) -> Cursor {
        match self.controller {
            Controller::Ssd1306 => Cursor::ssd1306(self.ram_offset() as u8),
            Controller::Sh1106 { column_offset } => Cursor::sh1106(column_offset),
            Controller::Ssd1309 => Cursor::unknown(),
        }
    }

    /// RAM column of the glass's column 0 on an SSD1306 or SSD1309.
    pub(crate) fn ram_offset(&self) -> u16 {
        let seg = self.size.column_offset();
        match self.rotation {
            Rotation::Deg0 | Rotation::Deg270 => seg,
            Rotation::Deg90 | Rotation::Deg180 => 128 - self.size.width() - seg,
        }
    }
}

/// What the panel is and how it is set up at initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PanelSettings {
    /// The glass on the controller.
    pub size: PanelSize,
    /// How the glass is mounted.
    pub rotation: Rotation,
    /// 7-bit I2C address.
    pub address: u8,
    /// Contrast 0-255 applied at every (re)initialisation.
    pub contrast: u8,
    /// The controller chip.
    pub controller: Controller,
}

impl Default for PanelSettings {
    fn default() -> Self {
        Self {
            size: PanelSize::W128xH64,
            rotation: Rotation::Deg0,
            address: 0x3C,
            contrast: DEFAULT_CONTRAST,
            controller: Controller::Ssd1306,
        }
    }
}

impl PanelSettings {
    /// Size of the frames `present` takes for these settings.
    pub fn geometry(&self) -> PanelGeometry {
        let (w, h) = (self.size.width(), self.size.height());
        let (width, height) = if self.rotation.is_portrait() {
            (h, w)
        } else {
            (w, h)
        };
        PanelGeometry {
            width,
            height,
            size: self.size,
            rotation: self.rotation,
            address: self.address,
        }
    }
}

/// Geometry of the frames [`Panel::present`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PanelGeometry {
    /// Logical width (after rotation).
    pub width: u16,
    /// Logical height (after rotation).
    pub height: u16,
    /// The glass.
    pub size: PanelSize,
    /// The rotation applied.
    pub rotation: Rotation,
    /// 7-bit I2C address.
    pub address: u8,
}
