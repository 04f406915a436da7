//! The wasmCloud side: wRPC exports of `oled-lattice:panel` (world `provider`), named config at `init`,
//! link config per component, clean shutdown.
//!
//! Panels are kept per device (backend + bus or snapshot path + address), each behind its own owner task.
//! Calls from a component go to the panel the config of the link they came over selects: the host names
//! the link (`link-name` header), so one component reaches several panels of one provider by link name
//! (`wasmcloud:bus/lattice.set-link-name`), e.g. two panels on one bus at 0x3C and 0x3D. Calls without a
//! link (e.g. `wash call`) go to the panel of the provider's own config.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::Context as _;
use tokio::sync::Mutex;
use tracing::{debug, error, info, warn};
use wasmcloud_provider_sdk::{
    get_connection, run_provider, Context, HealthCheckRequest, HealthCheckResponse, LinkConfig,
    LinkDeleteInfo, Provider, ProviderConfigUpdate, ProviderInitConfig,
};

use crate::backend;
use crate::config::{BackendKind, ConfigError, DeviceKey, PanelConfig};
use crate::owner::{self, PanelHandle, Startup};
use crate::state::StateFile;
use oled_driver as panel;

use crate::bindings::oled_lattice::panel::types::PanelError;
pub use crate::bindings::{INSPECT_ALIAS, INSPECT_INSTANCE, PANEL_INSTANCE};

/// Name the provider gives itself on the lattice (NATS connection name, logs).
pub const NAME: &str = "oled-panel-provider";

/// The provider: cheap to clone, all clones share one state.
#[derive(Clone, Default)]
pub struct OledPanelProvider {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// The provider's own configuration; `None` until `init`.
    base: Option<PanelConfig>,
    /// Link config of every link to this provider, by source component and link name.
    links: BTreeMap<LinkKey, HashMap<String, String>>,
    /// Which panel each link draws on, or why it cannot.
    routes: HashMap<LinkKey, Result<DeviceKey, String>>,
    default_key: Option<DeviceKey>,
    devices: HashMap<DeviceKey, Device>,
}

struct Device {
    config: PanelConfig,
    handle: PanelHandle,
    thread: Option<JoinHandle<()>>,
}

fn component_of(cx: &Option<Context>) -> Option<&str> {
    cx.as_ref().and_then(|c| c.component.as_deref())
}

/// The link name wasmCloud uses when none is given.
pub const DEFAULT_LINK: &str = "default";

/// A link to this provider: the source component and the link's name.
type LinkKey = (String, String);

fn link_key(component: &str, link_name: &str) -> LinkKey {
    (component.to_string(), link_name.to_string())
}

/// Names a link in logs and errors: the component, and the link name unless it is the default.
fn link_label((component, name): &LinkKey) -> String {
    if name == DEFAULT_LINK {
        component.clone()
    } else {
        format!("{component} (link {name})")
    }
}

impl OledPanelProvider {
    /// Runs the provider as the host starts it: host data from stdin, lattice connection, exports served
    /// until the host says shut down.
    pub async fn run() -> anyhow::Result<()> {
        let provider = Self::default();
        let shutdown = run_provider(provider.clone(), NAME)
            .await
            .context("failed to start the provider")?;
        let connection = get_connection();
        let wrpc = connection
            .get_wrpc_client(connection.provider_key())
            .await
            .context("failed to create the wRPC client")?;
        info!(
            provider_id = connection.provider_key(),
            exports = ?[PANEL_INSTANCE, INSPECT_INSTANCE, INSPECT_ALIAS],
            "serving exports"
        );
        let exports = crate::serve::serve_exports(&wrpc, provider)
            .await
            .context("failed to serve exports")?;
        let report = crate::serve::serve_until(exports, shutdown).await;
        info!(
            served = report.served,
            most_held = report.most_held,
            "stopped serving"
        );
        Ok(())
    }

    /// Applies the provider's own configuration (what `init` does), without a lattice.
    pub async fn configure(&self, values: &HashMap<String, String>) -> Result<(), ConfigError> {
        warn_unknown("named config", values);
        let config = PanelConfig::from_map(values).inspect_err(|e| {
            error!(error = %e, "provider configuration rejected");
        })?;
        let followup = {
            let mut state = self.state.lock().await;
            state.base = Some(config);
            reconcile(&mut state)
        };
        followup.run().await;
        Ok(())
    }

    /// Records a component's default link config (what a link put does); the error says why its
    /// calls will fail.
    pub async fn link(
        &self,
        component: &str,
        values: &HashMap<String, String>,
    ) -> Result<(), String> {
        self.link_named(component, DEFAULT_LINK, values).await
    }

    /// Records the config of the link `link_name` from `component`: calls over that link draw on the
    /// panel it selects.
    pub async fn link_named(
        &self,
        component: &str,
        link_name: &str,
        values: &HashMap<String, String>,
    ) -> Result<(), String> {
        warn_unknown("link config", values);
        let key = link_key(component, link_name);
        let (followup, route) = {
            let mut state = self.state.lock().await;
            state.links.insert(key.clone(), values.clone());
            let followup = reconcile(&mut state);
            (followup, state.routes.get(&key).cloned())
        };
        followup.run().await;
        match route {
            Some(Err(why)) => {
                error!(component, link_name, reason = %why, "link config rejected; calls over this link answer `invalid`");
                Err(why)
            }
            _ => Ok(()),
        }
    }

    /// Forgets a component's default link (what a link delete does).
    pub async fn unlink(&self, component: &str) {
        self.unlink_named(component, DEFAULT_LINK).await;
    }

    /// Forgets the link `link_name` from `component`.
    pub async fn unlink_named(&self, component: &str, link_name: &str) {
        let followup = {
            let mut state = self.state.lock().await;
            state.links.remove(&link_key(component, link_name));
            reconcile(&mut state)
        };
        followup.run().await;
    }

    /// Stops every panel owner: each panel keeps its last frame, or is switched off if so configured.
    /// The host's periodic health check: healthy while every panel in use answered its last contact.
    /// Asks the owners only (no bus traffic); an absent bus or a failed write shows up in the message,
    /// so `wash get inventory` and the host's health events tell a person what is wrong.
    pub async fn health(&self) -> HealthCheckResponse {
        let panels: Vec<(String, PanelHandle)> = {
            let state = self.state.lock().await;
            let mut v: Vec<_> = state
                .devices
                .iter()
                .map(|(key, d)| (key.to_string(), d.handle.clone()))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        if panels.is_empty() {
            return HealthCheckResponse {
                healthy: true,
                message: Some("no panel in use yet".to_string()),
            };
        }
        let mut faults = Vec::new();
        for (key, handle) in &panels {
            if let Err(why) = handle.health().await {
                faults.push(format!("{key}: {why}"));
            }
        }
        debug!(panels = panels.len(), faults = faults.len(), "health check");
        if faults.is_empty() {
            let names: Vec<&str> = panels.iter().map(|(k, _)| k.as_str()).collect();
            HealthCheckResponse {
                healthy: true,
                message: Some(format!("ok: {}", names.join(", "))),
            }
        } else {
            HealthCheckResponse {
                healthy: false,
                message: Some(faults.join("; ")),
            }
        }
    }

    pub async fn stop(&self) {
        let mut state = self.state.lock().await;
        let devices: Vec<(DeviceKey, Device)> = state.devices.drain().collect();
        state.routes.clear();
        state.default_key = None;
        drop(state);
        for (key, device) in devices {
            stop_device(&key, device, None).await;
        }
    }

    /// The panel a call from `component` over its default link goes to.
    pub async fn handle_for(
        &self,
        component: Option<&str>,
    ) -> Result<PanelHandle, panel::PanelError> {
        self.handle_for_link(component, DEFAULT_LINK).await
    }

    /// The panel a call from `component` over the link `link_name` goes to; the provider's own
    /// panel for a call that came over no link of ours (`wash call`).
    pub async fn handle_for_link(
        &self,
        component: Option<&str>,
        link_name: &str,
    ) -> Result<PanelHandle, panel::PanelError> {
        let state = self.state.lock().await;
        let route = component.and_then(|c| state.routes.get(&link_key(c, link_name)));
        let key = match route {
            Some(Ok(key)) => key,
            Some(Err(why)) => return Err(panel::PanelError::Invalid(why.clone())),
            None => state.default_key.as_ref().ok_or_else(|| {
                panel::PanelError::Absent("the provider has not been initialised".to_string())
            })?,
        };
        state
            .devices
            .get(key)
            .map(|d| d.handle.clone())
            .ok_or_else(|| panel::PanelError::Absent(format!("no panel is running for {key}")))
    }

    /// The panel for an invocation, logged with the calling component.
    pub(crate) async fn route(
        &self,
        cx: &Option<Context>,
        op: &'static str,
    ) -> Result<PanelHandle, PanelError> {
        let component = component_of(cx);
        let link_name = cx.as_ref().map_or(DEFAULT_LINK, Context::link_name);
        debug!(component, link_name, op, "invocation");
        Ok(self.handle_for_link(component, link_name).await?)
    }
}

fn warn_unknown(source: &str, values: &HashMap<String, String>) {
    let unknown = PanelConfig::unknown_keys(values);
    if !unknown.is_empty() {
        warn!(source, ?unknown, accepted = ?crate::config::KEYS, "ignoring unknown configuration keys");
    }
}

/// What a reconciliation leaves to do once the provider's lock is released, so that stopping a panel
/// (which waits for its owner thread) or reconfiguring one (which waits behind its queued calls) never
/// delays calls to other panels, health checks or links.
#[derive(Default)]
struct Followup {
    /// Owners no longer used: shut down and joined.
    stop: Vec<(DeviceKey, Device)>,
    /// Owners replaced by a new owner of the same device (which joins the old thread itself).
    replaced: Vec<(DeviceKey, PanelHandle)>,
    /// Owners kept, with their new configuration.
    reconfigure: Vec<(DeviceKey, PanelHandle, PanelConfig)>,
    /// Owners just started: waited for until their panel is up (or failed to come up).
    started: Vec<PanelHandle>,
}

impl Followup {
    async fn run(self) {
        for (key, handle, config) in self.reconfigure {
            let state = state_file(&key, &config);
            match handle.reconfigure(config, state).await {
                Ok(()) => info!(device = %key, "panel reconfigured in place"),
                Err(e) => {
                    warn!(device = %key, error = %e, "panel reconfigured; applying it to the panel failed")
                }
            }
        }
        for (key, handle) in self.replaced {
            // Its picture stays: the new owner takes over the same glass.
            if let Err(e) = handle.shutdown(false).await {
                warn!(device = %key, error = %e, "panel did not shut down cleanly");
            }
        }
        for (key, device) in self.stop {
            stop_device(&key, device, None).await;
        }
        for handle in self.started {
            if tokio::time::timeout(READY_TIMEOUT, handle.ready())
                .await
                .is_err()
            {
                warn!("a panel is still starting after {READY_TIMEOUT:?}; calls to it will wait for it");
            }
        }
    }
}

/// How long a (re)configuration waits for a newly started panel to come up before it returns.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn state_file(key: &DeviceKey, config: &PanelConfig) -> Option<StateFile> {
    config
        .state_dir
        .as_ref()
        .map(|dir| StateFile::for_device(dir, key))
}

/// Brings the running panels in line with the configuration: one owner per device in use; a device whose
/// configuration changed is reconfigured in place when it stays the same device of the same size, and
/// restarted otherwise; an owner nothing uses any more is stopped. Waits for nothing: what must be
/// awaited is returned.
fn reconcile(state: &mut State) -> Followup {
    let mut followup = Followup::default();
    let Some(base) = state.base.clone() else {
        return followup;
    };
    let mut wanted: BTreeMap<DeviceKey, PanelConfig> = BTreeMap::new();
    let default_key = base.device_key();
    wanted.insert(default_key.clone(), base.clone());
    let mut routes = HashMap::new();
    for (link, values) in &state.links {
        let component = link_label(link);
        let route = match base.overlay(values) {
            Err(e) => Err(format!("link config of {component} rejected: {e}")),
            Ok(config) => {
                let key = config.device_key();
                let snapshot_taken = config.backend == BackendKind::Virtual
                    && config.snapshot.is_some()
                    && wanted
                        .iter()
                        .any(|(k, c)| *k != key && c.snapshot == config.snapshot);
                match wanted.get(&key) {
                    _ if snapshot_taken => Err(format!(
                        "link config of {component} asks for a second virtual panel writing the snapshot {}: \
                         give it its own `snapshot` path",
                        config.location()
                    )),
                    Some(existing) if *existing != config => Err(format!(
                        "link config of {component} conflicts with the panel already configured at {key}: \
                         one device cannot be driven with two configurations"
                    )),
                    Some(_) => Ok(key),
                    None => {
                        wanted.insert(key.clone(), config);
                        Ok(key)
                    }
                }
            }
        };
        routes.insert(link.clone(), route);
    }

    let mut predecessors: HashMap<DeviceKey, JoinHandle<()>> = HashMap::new();
    let keys: Vec<DeviceKey> = state.devices.keys().cloned().collect();
    for key in keys {
        let Some(device) = state.devices.get_mut(&key) else {
            continue;
        };
        match wanted.get(&key) {
            Some(config) if *config == device.config => {}
            Some(config) if config.same_device(&device.config) => {
                device.config = config.clone();
                followup
                    .reconfigure
                    .push((key.clone(), device.handle.clone(), config.clone()));
            }
            Some(_) => {
                if let Some(mut old) = state.devices.remove(&key) {
                    if let Some(thread) = old.thread.take() {
                        predecessors.insert(key.clone(), thread);
                    }
                    followup.replaced.push((key.clone(), old.handle));
                }
            }
            None => {
                if let Some(old) = state.devices.remove(&key) {
                    followup.stop.push((key.clone(), old));
                }
            }
        }
    }
    for (key, config) in wanted {
        if state.devices.contains_key(&key) {
            continue;
        }
        let startup = Startup {
            state: state_file(&key, &config),
            predecessor: predecessors.remove(&key),
            journal: config.journal,
        };
        match owner::spawn_with(&key.to_string(), backend::build(&config), startup) {
            Ok((handle, thread)) => {
                info!(device = %key, ?config, "panel owner started");
                followup.started.push(handle.clone());
                state.devices.insert(
                    key,
                    Device {
                        config,
                        handle,
                        thread: Some(thread),
                    },
                );
            }
            Err(e) => error!(device = %key, error = %e, "could not start the panel owner thread"),
        }
    }
    state.routes = routes;
    state.default_key = Some(default_key);
    followup
}

/// Stops one owner and waits for its thread; `blank` overrides the device's own `blank_on_shutdown`.
async fn stop_device(key: &DeviceKey, mut device: Device, blank: Option<bool>) {
    let blank = blank.unwrap_or(device.config.blank_on_shutdown);
    if let Err(e) = device.handle.shutdown(blank).await {
        warn!(device = %key, error = %e, "panel did not shut down cleanly");
    }
    if let Some(thread) = device.thread.take() {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

impl Provider for OledPanelProvider {
    async fn init(&self, config: impl ProviderInitConfig) -> anyhow::Result<()> {
        let values = config.get_config();
        info!(
            provider_id = config.get_provider_id(),
            ?values,
            "initialising"
        );
        self.configure(values)
            .await
            .context("invalid provider configuration")
    }

    async fn on_config_update(&self, update: impl ProviderConfigUpdate) -> anyhow::Result<()> {
        let values = update.get_values();
        info!(?values, "configuration update");
        self.configure(values)
            .await
            .context("configuration update rejected; keeping the previous configuration")
    }

    async fn receive_link_config_as_target(&self, link: LinkConfig<'_>) -> anyhow::Result<()> {
        info!(
            component = link.source_id,
            link_name = link.link_name,
            config = ?link.config,
            "component linked"
        );
        self.link_named(link.source_id, link.link_name, link.config)
            .await
            .map_err(anyhow::Error::msg)
    }

    async fn delete_link_as_target(&self, info: impl LinkDeleteInfo) -> anyhow::Result<()> {
        let component = info.get_source_id();
        let link_name = info.get_link_name();
        info!(component, link_name, "component unlinked");
        self.unlink_named(component, link_name).await;
        Ok(())
    }

    async fn health_request(
        &self,
        _request: &HealthCheckRequest,
    ) -> anyhow::Result<HealthCheckResponse> {
        Ok(self.health().await)
    }

    async fn shutdown(&self) -> anyhow::Result<()> {
        info!("shutting down");
        self.stop().await;
        Ok(())
    }
}
