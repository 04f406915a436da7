//! The contract's handlers: each `oled-lattice:panel` call goes to the caller's panel (chosen by the
//! link it came over, [`OledPanelProvider::route`]), continues the caller's trace, and is converted
//! between the driver's types and the contract's (typed until here, the WIT boundary).

use tracing::{info_span, Instrument as _};
#[cfg(feature = "traces")]
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use wasmcloud_provider_sdk::Context;

use crate::backend;
use crate::bindings::exports::oled_lattice::panel::inspect::Handler as InspectHandler;
use crate::bindings::exports::oled_lattice::panel::panel::Handler as PanelHandler;
use crate::bindings::oled_lattice;
use crate::bindings::oled_lattice::panel::types::{PanelError, PanelInfo, PresentCost, ShownFrame};
use crate::owner;
use crate::provider::OledPanelProvider;
use oled_driver as panel;

impl From<panel::PanelError> for PanelError {
    fn from(e: panel::PanelError) -> Self {
        match e {
            panel::PanelError::BadFrame(m) => PanelError::BadFrame(m),
            // Typed up to here; the WIT contract carries the bus's words.
            panel::PanelError::Bus { detail, .. } => PanelError::Bus(detail),
            panel::PanelError::Absent(m) => PanelError::Absent(m),
            panel::PanelError::Invalid(m) => PanelError::Invalid(m),
        }
    }
}

impl From<panel::PresentCost> for PresentCost {
    fn from(c: panel::PresentCost) -> Self {
        PresentCost {
            bytes: c.bytes,
            transactions: c.transactions,
            pages_touched: c.pages_touched,
            full_refresh: c.full_refresh,
            unsaved: None,
        }
    }
}

impl From<backend::BackendInfo> for PanelInfo {
    fn from(i: backend::BackendInfo) -> Self {
        PanelInfo {
            width: i.width,
            height: i.height,
            driver: i.driver.to_string(),
            backend: i.backend.to_string(),
            bus: i.bus,
            address: i.address,
            rotation: i.rotation,
            unsaved: None,
        }
    }
}

/// `span`, continuing the caller's trace when the invocation carries one (the host puts its trace
/// context in the invocation's headers). The parent is set before the span is first entered:
/// tracing-opentelemetry 0.32 starts a span's context on its first entry, so the SDK's
/// `propagate_trace_for_ctx!` inside an already entered span would leave it a root.
#[cfg(not(feature = "traces"))]
fn traced(span: tracing::Span, _cx: &Option<Context>) -> tracing::Span {
    span
}

#[cfg(feature = "traces")]
fn traced(span: tracing::Span, cx: &Option<Context>) -> tracing::Span {
    if let Some(cx) = cx.as_ref().filter(|cx| !cx.tracing.is_empty()) {
        let headers: Vec<(String, String)> = cx
            .tracing
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let parent = wasmcloud_provider_sdk::wasmcloud_tracing::context::get_span_context(&headers);
        if let Err(e) = span.set_parent(parent) {
            tracing::debug!(error = ?e, "could not continue the caller's trace");
        }
    }
    span
}

impl OledPanelProvider {
    /// The three presents: the caller's panel, the frame with its text and size, in `span` (which
    /// continues the caller's trace).
    async fn present_via(
        &self,
        cx: Option<Context>,
        op: &'static str,
        span: tracing::Span,
        frame: wit_bindgen_wrpc::bytes::Bytes,
        text: Option<String>,
        size: Option<(u16, u16)>,
    ) -> Result<PresentCost, PanelError> {
        let span = traced(span, &cx);
        async {
            let h = self.route(&cx, op).await?;
            let mut cost = h
                .present_sized(frame.to_vec(), text, size)
                .await
                .map(PresentCost::from)
                .map_err(PanelError::from)?;
            // The answer came after the save was tried: the caller hears whether it was kept.
            cost.unsaved = h.save_failure().await;
            Ok(cost)
        }
        .instrument(span)
        .await
    }
}

impl PanelHandler<Option<Context>> for OledPanelProvider {
    async fn info(&self, cx: Option<Context>) -> anyhow::Result<Result<PanelInfo, PanelError>> {
        Ok(match self.route(&cx, "info").await {
            Ok(h) => match h.info().await {
                Ok(info) => Ok(PanelInfo {
                    unsaved: h.save_failure().await,
                    ..PanelInfo::from(info)
                }),
                Err(e) => Err(PanelError::from(e)),
            },
            Err(e) => Err(e),
        })
    }

    async fn present(
        &self,
        cx: Option<Context>,
        frame: wit_bindgen_wrpc::bytes::Bytes,
    ) -> anyhow::Result<Result<PresentCost, PanelError>> {
        let span = info_span!("present", frame_bytes = frame.len());
        Ok(self
            .present_via(cx, "present", span, frame, None, None)
            .await)
    }

    async fn present_text(
        &self,
        cx: Option<Context>,
        frame: wit_bindgen_wrpc::bytes::Bytes,
        text: String,
    ) -> anyhow::Result<Result<PresentCost, PanelError>> {
        let span = info_span!("present-text", frame_bytes = frame.len(), text = %text);
        Ok(self
            .present_via(cx, "present-text", span, frame, Some(text), None)
            .await)
    }

    async fn present_sized(
        &self,
        cx: Option<Context>,
        width: u16,
        height: u16,
        frame: wit_bindgen_wrpc::bytes::Bytes,
        text: String,
    ) -> anyhow::Result<Result<PresentCost, PanelError>> {
        let span = info_span!(
            "present-sized",
            frame_bytes = frame.len(),
            width,
            height,
            text = %text
        );
        let size = Some((width, height));
        Ok(self
            .present_via(cx, "present-sized", span, frame, Some(text), size)
            .await)
    }

    async fn present_ticker(
        &self,
        cx: Option<Context>,
        ticker: oled_lattice::panel::types::Ticker,
        text: String,
    ) -> anyhow::Result<Result<oled_lattice::panel::types::TickerRun, PanelError>> {
        let span = info_span!(
            "present-ticker",
            strip_columns = ticker.strip_width,
            speed = ticker.speed,
            software = ticker.software,
            text = %text
        );
        let span = traced(span, &cx);
        let ask = owner::TickerAsk {
            size: (ticker.width, ticker.height),
            frame: ticker.frame.to_vec(),
            strip_width: ticker.strip_width,
            strip_pages: ticker.strip_pages,
            strip: ticker.strip.to_vec(),
            top_page: ticker.top_page,
            speed: ticker.speed,
            software: ticker.software,
        };
        Ok(async {
            let h = self.route(&cx, "present-ticker").await?;
            let started = h.present_ticker(ask, text).await;
            let unsaved = if started.is_ok() {
                h.save_failure().await
            } else {
                None
            };
            started
                .map(|t| oled_lattice::panel::types::TickerRun {
                    cost: PresentCost {
                        unsaved,
                        ..PresentCost::from(t.cost)
                    },
                    path: t.path.name().to_string(),
                    millicolumns_per_second: (t.speed * 1000.0)
                        .round()
                        .clamp(0.0, f64::from(u32::MAX))
                        as u32,
                    why_software: t.why_software,
                })
                .map_err(PanelError::from)
        }
        .instrument(span)
        .await)
    }

    async fn last_text(
        &self,
        cx: Option<Context>,
    ) -> anyhow::Result<Result<Option<String>, PanelError>> {
        Ok(match self.route(&cx, "last-text").await {
            Ok(h) => Ok(h.last_text().await),
            Err(e) => Err(e),
        })
    }

    async fn shown(&self, cx: Option<Context>) -> anyhow::Result<Result<ShownFrame, PanelError>> {
        Ok(match self.route(&cx, "shown").await {
            Ok(h) => match h.shown().await {
                Some(f) => Ok(ShownFrame {
                    width: f.width(),
                    height: f.height(),
                    frame: wit_bindgen_wrpc::bytes::Bytes::copy_from_slice(f.as_bytes()),
                }),
                None => Err(PanelError::Absent(
                    "what the panel shows is not known (it has not been brought up since a fault)"
                        .to_string(),
                )),
            },
            Err(e) => Err(e),
        })
    }

    async fn set_contrast(
        &self,
        cx: Option<Context>,
        level: u8,
    ) -> anyhow::Result<Result<(), PanelError>> {
        Ok(match self.route(&cx, "set-contrast").await {
            Ok(h) => h.set_contrast(level).await.map_err(PanelError::from),
            Err(e) => Err(e),
        })
    }

    async fn set_power(
        &self,
        cx: Option<Context>,
        on: bool,
    ) -> anyhow::Result<Result<(), PanelError>> {
        Ok(match self.route(&cx, "set-power").await {
            Ok(h) => h.set_power(on).await.map_err(PanelError::from),
            Err(e) => Err(e),
        })
    }

    async fn set_invert(
        &self,
        cx: Option<Context>,
        inverted: bool,
    ) -> anyhow::Result<Result<(), PanelError>> {
        Ok(match self.route(&cx, "set-invert").await {
            Ok(h) => h.set_invert(inverted).await.map_err(PanelError::from),
            Err(e) => Err(e),
        })
    }
}

impl InspectHandler<Option<Context>> for OledPanelProvider {
    async fn ascii(&self, cx: Option<Context>) -> anyhow::Result<String> {
        Ok(match self.route(&cx, "ascii").await {
            Ok(h) => h.ascii().await,
            Err(e) => format!("({e:?})\n"),
        })
    }

    async fn journal(&self, cx: Option<Context>) -> anyhow::Result<String> {
        Ok(match self.route(&cx, "journal").await {
            Ok(h) => h.journal().await.unwrap_or_else(|| {
                serde_json::json!({ "error": "the panel owner has stopped" }).to_string()
            }),
            Err(e) => serde_json::json!({ "error": format!("{e:?}") }).to_string(),
        })
    }

    async fn stats(&self, cx: Option<Context>) -> anyhow::Result<String> {
        let report = match self.route(&cx, "stats").await {
            Ok(h) => h
                .stats()
                .await
                .ok_or_else(|| PanelError::Absent("the panel owner has stopped".to_string())),
            Err(e) => Err(e),
        };
        Ok(match report {
            Ok(r) => r.to_json(),
            Err(e) => serde_json::json!({ "error": format!("{e:?}") }).to_string(),
        })
    }
}
