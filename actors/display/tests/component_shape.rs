//! The built component has the shape the lattice expects. Needs the signed build: `scripts/test.sh`
//! runs `wash build` first, then this with `--ignored` (plain `cargo test` skips it).

use std::path::PathBuf;
use wasmparser::{Parser, Payload};

fn component_path() -> PathBuf {
    std::env::var_os("OLED_DISPLAY_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("build/oled_display_s.wasm")
        })
}

/// Top-level (not nested) import and export names of a component.
fn top_level_names(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("valid wasm") {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(s) if depth == 0 => {
                for i in s {
                    imports.push(i.expect("import").name.0.to_string());
                }
            }
            Payload::ComponentExportSection(s) if depth == 0 => {
                for e in s {
                    exports.push(e.expect("export").name.0.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
#[ignore = "needs the signed component from `wash build` (scripts/test.sh runs it)"]
fn signed_component_calls_the_panel_over_wrpc_rpc_and_exports_http_and_invoke() {
    let path = component_path();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build it with `wash build` in actors/display",
            path.display()
        )
    });
    println!(
        "signed component: {} ({} bytes)",
        path.display(),
        bytes.len()
    );
    assert!(
        Parser::is_component(&bytes),
        "a component, not a core module"
    );
    // A guard against accidental bloat, raised from 300 KB when the component took on the live view
    // (its page and a PNG encoder), the fleet's routes and night mode's status (312 KB then).
    assert!(
        bytes.len() < 350 * 1024,
        "signed component is {} bytes, over 350 KB",
        bytes.len()
    );

    let (imports, exports) = top_level_names(&bytes);
    println!("imports: {imports:?}\nexports: {exports:?}");
    // The panel is called through wrpc:rpc (with the component's own deadline), not a plain import.
    assert!(imports.iter().any(|i| i == "wrpc:rpc/invoker@0.1.0"));
    assert!(imports.iter().any(|i| i == "wrpc:rpc/transport@0.1.0"));
    assert!(!imports.iter().any(|i| i.starts_with("oled-lattice:panel")));
    assert!(imports
        .iter()
        .any(|i| i.starts_with("wasi:logging/logging")));
    assert!(exports
        .iter()
        .any(|e| e.starts_with("wasi:http/incoming-handler@0.2")));
    assert!(exports.iter().any(|e| *e == "oled-lattice:display/invoke"));
    // The display talks to hardware only through the panel: no filesystem, no sockets.
    assert!(!imports
        .iter()
        .any(|i| i.starts_with("wasi:filesystem") || i.starts_with("wasi:sockets")));
}
