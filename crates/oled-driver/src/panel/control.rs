//! What changes on a panel without a redraw: contrast, power, inversion, rotation, a preset, night
//! mode and burn-in care.

use std::borrow::Cow;

use embedded_hal::i2c::I2c;
use ssd1306::prelude::Brightness;

use crate::settings::{Rotation, PRECHARGE};
use crate::stats::{saturate, PresentCost};
use crate::{PanelError, CONTROL_COMMANDS};

use super::{ChipCare, Panel};

impl<I: I2c> Panel<I> {
    /// Puts `state` of `policy` on the chip (night mode, burn-in care): only the registers that
    /// differ from what the chip has, in one command transaction (contrast `0x81 c`, display offset
    /// `0xD3 n`, display on/off `0xAF`/`0xAE`), never a redraw. The panel's own contrast and power
    /// stay what they are; care only ever lowers the contrast or switches off. Does nothing on a
    /// panel that is not initialised yet (the next tick applies it).
    ///
    /// ```
    /// use oled_driver::care::{CarePolicy, CareState, Level};
    /// use oled_driver::{Panel, PanelSettings};
    /// use virtual_ssd1306::{PanelSize, SharedPanel, VirtualSsd1306};
    ///
    /// let bus = SharedPanel::new(VirtualSsd1306::new(PanelSize::W128xH64, 0x3C));
    /// let mut panel = Panel::new(bus.clone(), PanelSettings::default());
    /// panel.init().unwrap();
    /// let policy = CarePolicy { dim_contrast: 1, ..CarePolicy::default() };
    /// let dim = CareState { level: Level::Dimmed, ..CareState::default() };
    /// // Address byte, control byte, 0x81, 1: four bytes to dim.
    /// assert_eq!(panel.apply_care(&policy, &dim).unwrap().bytes, 4);
    /// assert_eq!(panel.apply_care(&policy, &dim).unwrap().bytes, 0);
    /// assert_eq!(bus.with(|p| p.state().contrast), 1);
    /// ```
    pub fn apply_care(
        &mut self,
        policy: &crate::care::CarePolicy,
        state: &crate::care::CareState,
    ) -> Result<PresentCost, PanelError> {
        if !self.initialised {
            return Ok(PresentCost::default());
        }
        let want = ChipCare {
            contrast: policy.contrast(state, self.contrast),
            on: self.power_on && state.level != crate::care::Level::Off,
            offset: state.offset,
        };
        let own = ChipCare {
            contrast: self.contrast,
            on: self.power_on,
            offset: 0,
        };
        let have = self.care.unwrap_or(own);
        // Switched off, the contrast does not matter: it is put back when it wakes.
        let want = if want.on {
            want
        } else {
            ChipCare {
                contrast: have.contrast,
                ..want
            }
        };
        if want == have {
            return Ok(PresentCost::default());
        }
        let mut payload = vec![CONTROL_COMMANDS];
        if want.on != have.on && !want.on {
            payload.push(0xAE);
        }
        if want.contrast != have.contrast {
            payload.extend_from_slice(&[0x81, want.contrast]);
        }
        if want.offset != have.offset {
            payload.extend_from_slice(&[0xD3, want.offset]);
        }
        if want.on != have.on && want.on {
            payload.push(0xAF);
        }
        self.measured(|p| {
            p.raw(&payload)?;
            Ok(PresentCost::default())
        })?;
        self.care = (want != own).then_some(want);
        Ok(PresentCost {
            transactions: 1,
            bytes: saturate(1 + payload.len() as u64),
            ..PresentCost::default()
        })
    }

    /// Rows at the start of GDDRAM the picture leaves dark (up to 8): how far a display offset can
    /// move it without a lit pixel wrapping to the other edge. 0 while GDDRAM is unknown.
    pub fn free_rows(&self) -> u8 {
        let Some(f) = &self.gddram else { return 0 };
        let rows = (0..f.height().min(8))
            .take_while(|&y| (0..f.width()).all(|x| !f.pixel(x, y)))
            .count();
        rows as u8
    }

    /// Contrast 0-255. Initialises the panel first if needed.
    pub fn set_contrast(&mut self, level: u8) -> Result<PresentCost, PanelError> {
        self.contrast = level;
        if let Some(c) = &mut self.care {
            c.contrast = level;
        }
        self.measured(|p| {
            if p.ensure_init()? {
                return Ok(PresentCost {
                    initialised: true,
                    ..PresentCost::default()
                });
            }
            p.command(|d| d.set_brightness(Brightness::custom(PRECHARGE, level)))?;
            Ok(PresentCost::default())
        })
    }

    /// Display on or off; GDDRAM is kept while off.
    pub fn set_power(&mut self, on: bool) -> Result<PresentCost, PanelError> {
        self.power_on = on;
        if let Some(c) = &mut self.care {
            c.on = on;
        }
        self.measured(|p| {
            if p.ensure_init()? {
                return Ok(PresentCost {
                    initialised: true,
                    ..PresentCost::default()
                });
            }
            p.command(|d| d.set_display_on(on))?;
            Ok(PresentCost::default())
        })
    }

    /// Hardware inversion.
    pub fn set_invert(&mut self, inverted: bool) -> Result<PresentCost, PanelError> {
        self.inverted = inverted;
        self.measured(|p| {
            if p.ensure_init()? {
                return Ok(PresentCost {
                    initialised: true,
                    ..PresentCost::default()
                });
            }
            p.command(|d| d.set_invert(inverted))?;
            Ok(PresentCost::default())
        })
    }

    /// Sets contrast, power and inversion without touching the bus, for a panel not initialised yet: the
    /// next initialisation applies them in its one sequence (used to restore a saved state with a single
    /// initialisation). On an initialised panel this is the same as the three setters.
    pub fn preset(
        &mut self,
        contrast: u8,
        power_on: bool,
        inverted: bool,
    ) -> Result<(), PanelError> {
        if self.initialised {
            if contrast != self.contrast {
                self.set_contrast(contrast)?;
            }
            if inverted != self.inverted {
                self.set_invert(inverted)?;
            }
            if power_on != self.power_on {
                self.set_power(power_on)?;
            }
            return Ok(());
        }
        self.contrast = contrast;
        self.power_on = power_on;
        self.inverted = inverted;
        Ok(())
    }

    /// Changes the rotation in place: the driver's segment remap and COM scan direction (two command
    /// transactions), no re-initialisation, no display-off. The datasheet says a segment remap only
    /// applies to data written after it, so the GDDRAM is then written again, whole and unchanged: the
    /// picture turns without going dark. Between landscape and portrait the logical size changes, and
    /// until the next `present` of the new size the panel shows the same GDDRAM read the new way.
    pub fn set_rotation(&mut self, rotation: Rotation) -> Result<PresentCost, PanelError> {
        if rotation == self.settings.rotation {
            return Ok(PresentCost::default());
        }
        self.settings.rotation = rotation;
        if !self.initialised {
            // The next initialisation applies it.
            return Ok(PresentCost::default());
        }
        let held = self.gddram.take();
        self.measured(|p| {
            p.command(|d| d.set_rotation(rotation.driver()))?;
            match held {
                Some(g) => p.send_frame(Cow::Owned(g)),
                None => Ok(PresentCost::default()),
            }
        })
    }

    /// Forgets what the panel holds, as after a fault: the next call re-initialises and redraws everything.
    pub fn mark_unknown(&mut self) {
        self.initialised = false;
        // An initialisation puts the panel's own settings back (offset 0): care applies again.
        self.care = None;
        self.gddram = None;
        self.cursor = self.settings.cursor();
    }
}
