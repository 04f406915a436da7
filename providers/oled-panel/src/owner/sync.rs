//! The thread that flushes the panel's state file to the disk.

use tracing::warn;

use crate::state::StateFile;

/// A thread that fsyncs the state file after each save, coalescing saves that come faster than the
/// disk: what was answered survives any crash at once (the file is complete and in place before the
/// answer), and a power cut within about one fsync's time of the last change.
pub(super) struct Syncer {
    tx: std::sync::mpsc::Sender<StateFile>,
}

impl Syncer {
    pub(super) fn start(label: &str) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<StateFile>();
        let label = label.to_string();
        let spawned = std::thread::Builder::new()
            .name(format!("state sync {label}"))
            .spawn(move || {
                while let Ok(mut file) = rx.recv() {
                    while let Ok(newer) = rx.try_recv() {
                        file = newer;
                    }
                    if let Err(e) = file.sync() {
                        warn!(panel = %label, error = %e, "could not flush the panel state to disk");
                    }
                }
            });
        if let Err(e) = spawned {
            warn!(error = %e, "no state sync thread; saved states reach the disk when the system flushes");
        }
        Self { tx }
    }

    pub(super) fn sync(&self, file: StateFile) {
        let _ = self.tx.send(file);
    }
}
