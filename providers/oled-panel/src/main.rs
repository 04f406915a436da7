//! `oled-panel`: the OLED capability provider. Started by a wasmCloud host, which passes its host data on
//! stdin; see the crate docs and `wadm.yaml`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    oled_panel_provider::provider::OledPanelProvider::run().await?;
    eprintln!("oled-panel provider exiting");
    Ok(())
}
