//! `oled-http-server-provider`: the wasmCloud HTTP server capability provider 0.27.1, packaged
//! into a provider archive by `scripts/install-tools.sh` (`wash par create`).
//! The host starts it and passes its configuration on stdin.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    wasmcloud_provider_http_server::run().await
}
