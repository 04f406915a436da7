//! Placeholder: filled in by the emulator work.
