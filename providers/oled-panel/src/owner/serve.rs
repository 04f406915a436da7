//! What the owner does for each request.

use std::sync::atomic::Ordering;
use std::time::Instant;

use tracing::{debug, info, warn};

use super::actor::{guarded, log_result, micros, unix_ms, Owner};
use super::{Request, StatsReport};
use oled_driver::ticker::TickerPath;
use oled_driver::PanelError;

impl Owner {
    /// Serves one request; false once the owner must stop.
    pub(super) fn serve(&mut self, request: Request) -> bool {
        let label = self.label.clone();
        let label = label.as_str();
        match request {
            Request::Info(reply) => {
                self.answer(reply, self.backend.info());
            }
            Request::Present {
                frame,
                text,
                size,
                span: caller,
                reply,
            } => {
                let span = tracing::info_span!(
                    parent: &caller,
                    "bus",
                    panel = label,
                    bytes = tracing::field::Empty,
                    transactions = tracing::field::Empty,
                    windows = tracing::field::Empty,
                );
                let _entered = span.enter();
                let t = Instant::now();
                let info = self.backend.info();
                // New text stops a ticker (the driver stops a hardware scroll on its way).
                if !matches!(size, Some((w, h)) if (w, h) != (info.width, info.height)) {
                    self.end_ticker(false);
                }
                let r = match size {
                    Some((w, h)) if (w, h) != (info.width, info.height) => {
                        Err(PanelError::BadFrame(format!(
                            "a frame drawn for {w}x{h}; this panel is {}x{} (after rotation)",
                            info.width, info.height
                        )))
                    }
                    _ => guarded(label, &mut self.backend, |b| b.present(&frame)),
                };
                let us = micros(t);
                self.timing.presents += 1;
                self.timing.present_us += us;
                self.timing.present_max_us = self.timing.present_max_us.max(us);
                if let Ok(cost) = &r {
                    span.record("bytes", cost.bytes);
                    span.record("transactions", cost.transactions);
                    span.record("windows", cost.windows);
                    debug!(
                        panel = %label,
                        bytes = cost.bytes,
                        transactions = cost.transactions,
                        windows = cost.windows,
                        pages = cost.pages_touched,
                        full_refresh = cost.full_refresh,
                        "presented"
                    );
                    self.journal
                        .record(text.as_deref().unwrap_or(""), unix_ms());
                    self.text = text;
                    self.dirty = true;
                    // An update wakes a dimmed or switched-off panel, and keeps the shift on the glass.
                    self.last_update = Instant::now();
                    self.tend();
                }
                log_result(label, "present", &r);
                self.hold(reply, r);
            }
            Request::Reconfigure(config, state_file, reply) => {
                self.end_ticker(true);
                let r = guarded(label, &mut self.backend, |b| b.reconfigure(&config));
                log_result(label, "reconfigure", &r);
                if state_file != self.state_file {
                    self.state_file = state_file;
                    self.saved = None;
                    self.open_journal(config.journal);
                } else if config.journal != self.journal.capacity() {
                    self.open_journal(config.journal);
                }
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::LastText(reply) => {
                self.answer(reply, self.text.clone());
            }
            Request::Shown(reply) => {
                let shown = match &self.ticker {
                    Some(t) => Some(t.run.frame_at(t.started.elapsed())),
                    None => self.backend.shown(),
                };
                self.answer(reply, shown);
            }
            Request::Ticker {
                ask,
                text,
                span: caller,
                reply,
            } => {
                let span = tracing::info_span!(parent: &caller, "ticker", panel = label);
                let _entered = span.enter();
                let info = self.backend.info();
                let software = ask.software;
                let r = ask
                    .ticker(info.width, info.height)
                    .and_then(|ticker| self.begin_ticker(ticker, software));
                if r.is_ok() {
                    self.text = Some(text);
                    self.dirty = true;
                    self.last_update = Instant::now();
                    self.tend();
                }
                log_result(label, "present-ticker", &r);
                self.hold(reply, r);
            }
            Request::Step(generation) => {
                let current = self.generation.load(Ordering::Acquire);
                // Switched off by night mode, nobody sees the steps: none go on the bus until it
                // wakes (the next step then shows the ticker where the clock says it is).
                let dark = self.care.level == oled_driver::care::Level::Off;
                if let Some(t) = self
                    .ticker
                    .as_ref()
                    .filter(|_| generation == current && !dark)
                {
                    if t.run.path == TickerPath::Software {
                        let frame = t.run.frame_at(t.started.elapsed());
                        let r = guarded(label, &mut self.backend, |b| b.present(frame.as_bytes()));
                        if let Err(e) = r {
                            debug!(panel = %label, error = %e, "ticker step not shown; the next one tries again");
                        }
                    }
                }
            }
            Request::SetContrast(level, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.set_contrast(level));
                log_result(label, "set-contrast", &r);
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::SetPower(on, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.set_power(on));
                log_result(label, "set-power", &r);
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::SetInvert(inverted, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.set_invert(inverted));
                log_result(label, "set-invert", &r);
                self.dirty = true;
                self.hold(reply, r);
            }
            Request::Journal(reply) => {
                self.answer(reply, self.journal.to_json());
            }
            Request::SaveFailure(reply) => {
                self.answer(reply, self.save_failing.clone());
            }
            Request::Ascii(reply) => {
                let text = guarded(label, &mut self.backend, |b| Ok(b.ascii()))
                    .unwrap_or_else(|e| format!("({e})\n"));
                self.answer(reply, text);
            }
            Request::Stats(reply) => {
                let info = self.backend.info();
                let _ = reply.send(StatsReport {
                    backend: info.backend,
                    bus: info.bus,
                    address: info.address,
                    width: info.width,
                    height: info.height,
                    rotation: info.rotation,
                    panel: self.backend.stats(),
                    timing: self.timing,
                    care: self.care,
                    ticker: self.ticker_report(),
                });
            }
            Request::Health(reply) => {
                self.answer(reply, self.backend.health());
            }
            Request::Tick => self.tend(),
            Request::Shutdown(blank, reply) => {
                let r = guarded(label, &mut self.backend, |b| b.shutdown(blank));
                match &r {
                    Ok(()) => info!(panel = %label, blank, "panel owner stopped"),
                    Err(e) => {
                        warn!(panel = %label, blank, error = %e, "panel owner stopped after an error")
                    }
                }
                self.answer(reply, r);
                return false;
            }
        }
        true
    }
}
