//! The bus link: the display interface the `ssd1306` driver writes through, one I2C write
//! transaction per call, counted when acknowledged and its fault kept otherwise.

use display_interface::{DataFormat, DisplayError, WriteOnlyDataCommand};
use embedded_hal::i2c::{ErrorKind, I2c, NoAcknowledgeSource};

use crate::{CONTROL_COMMANDS, CONTROL_DATA};

/// Counters and the last fault of the bus, kept by the [`Panel`].
#[derive(Debug, Default)]
pub(crate) struct LinkState {
    pub(crate) transactions: u64,
    pub(crate) bytes: u64,
    /// The last fault: its kind and how it reads.
    pub(crate) fault: Option<(ErrorKind, String)>,
}

/// The display interface the `ssd1306` driver writes through, lent the panel's bus for one call:
/// every `send_commands` is one transaction `[0x00, commands…]`, every `send_data` one transaction
/// `[0x40, data…]`, whatever the length.
pub(crate) struct BusLink<'a, I> {
    pub(crate) i2c: &'a mut I,
    pub(crate) address: u8,
    pub(crate) buf: &'a mut Vec<u8>,
    pub(crate) state: &'a mut LinkState,
}

impl<I: I2c> BusLink<'_, I> {
    fn transaction(&mut self, control: u8, payload: DataFormat<'_>) -> Result<(), DisplayError> {
        self.buf.clear();
        self.buf.push(control);
        match payload {
            DataFormat::U8(bytes) => self.buf.extend_from_slice(bytes),
            DataFormat::U8Iter(iter) => self.buf.extend(iter),
            _ => return Err(DisplayError::DataFormatNotImplemented),
        }
        if self.buf.len() == 1 {
            return Ok(());
        }
        write(self.i2c, self.address, self.buf, self.state).map_err(|_| DisplayError::BusWriteError)
    }
}

/// One write transaction, counted when acknowledged, its fault kept otherwise.
pub(crate) fn write<I: I2c>(
    i2c: &mut I,
    address: u8,
    payload: &[u8],
    state: &mut LinkState,
) -> Result<(), ()> {
    match i2c.write(address, payload) {
        Ok(()) => {
            state.transactions += 1;
            state.bytes += 1 + payload.len() as u64;
            Ok(())
        }
        Err(e) => {
            let kind = embedded_hal::i2c::Error::kind(&e);
            state.fault = Some((kind, describe_i2c_error(&e, address)));
            Err(())
        }
    }
}

impl<I: I2c> WriteOnlyDataCommand for BusLink<'_, I> {
    fn send_commands(&mut self, cmd: DataFormat<'_>) -> Result<(), DisplayError> {
        self.transaction(CONTROL_COMMANDS, cmd)
    }

    fn send_data(&mut self, buf: DataFormat<'_>) -> Result<(), DisplayError> {
        self.transaction(CONTROL_DATA, buf)
    }
}

pub(crate) fn describe_i2c_error<E: embedded_hal::i2c::Error>(e: &E, address: u8) -> String {
    let what = match e.kind() {
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address) => {
            format!("no acknowledge from address {address:#04x} (panel unplugged or wrong address)")
        }
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data) => {
            format!("address {address:#04x} did not acknowledge data")
        }
        ErrorKind::NoAcknowledge(_) => format!("no acknowledge from address {address:#04x}"),
        ErrorKind::ArbitrationLoss => "arbitration lost".to_string(),
        ErrorKind::Bus => "bus error".to_string(),
        ErrorKind::Overrun => "overrun".to_string(),
        _ => "I2C error".to_string(),
    };
    format!("{what}: {e:?}")
}
