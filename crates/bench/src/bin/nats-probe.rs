//! `nats-probe`: what a NATS server lets a client do, for the attack checks (scripts/lib/attacks.sh).
//!
//! - `nats-probe connect URL`: connect and round-trip a PING. Prints `let in` (exit 0) or
//!   `refused: <reason>` (exit 1).
//! - `nats-probe hears URL SUBJECT`: a listener subscribes to SUBJECT, a sender publishes there.
//!   Prints `heard` (exit 0) or `not heard: <why>` (exit 1).
//!
//! The listener connects with the credentials file in `OLED_NATS_CREDS`, the sender with the one in
//! `OLED_NATS_SENDER_CREDS` (each anonymous when unset or empty). Every step is bounded in time.

use std::time::Duration;

use futures::StreamExt as _;

async fn connect(url: &str, creds_var: &str) -> Result<async_nats::Client, String> {
    let client = oled_bench::connect_nats_as(url, creds_var)
        .await
        .map_err(|e| format!("{e:#}"))?;
    tokio::time::timeout(Duration::from_secs(3), client.flush())
        .await
        .map_err(|_| "no PONG within 3 s".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(client)
}

async fn hears(url: &str, subject: &str) -> Result<(), String> {
    let listener = connect(url, "OLED_NATS_CREDS")
        .await
        .map_err(|e| format!("listener: {e}"))?;
    let sender = connect(url, "OLED_NATS_SENDER_CREDS")
        .await
        .map_err(|e| format!("sender: {e}"))?;
    let mut sub = listener
        .subscribe(subject.to_string())
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    listener.flush().await.map_err(|e| e.to_string())?;
    // The server takes a subscription after the client's flush returns: publish a few times.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sender
            .publish(subject.to_string(), "probe".into())
            .await
            .map_err(|e| format!("publish: {e}"))?;
        sender.flush().await.map_err(|e| e.to_string())?;
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
            return Ok(());
        }
    }
    Err("nothing arrived in 2.5 s (the subscription or the publish was not allowed)".into())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["connect", url] => connect(url, "OLED_NATS_CREDS")
            .await
            .map(|_| "let in".to_string())
            .map_err(|e| format!("refused: {e}")),
        ["hears", url, subject] => hears(url, subject)
            .await
            .map(|()| "heard".to_string())
            .map_err(|e| format!("not heard: {e}")),
        _ => Err("usage: nats-probe connect URL | nats-probe hears URL SUBJECT".into()),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(line) => {
            println!("{line}");
            std::process::ExitCode::FAILURE
        }
    }
}
