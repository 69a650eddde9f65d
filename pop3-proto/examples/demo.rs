//! `cargo run --example demo`: no arguments, no setup. Starts the example server
//! on an ephemeral loopback port over a copy of the bundled sample mailbox,
//! fetches everything with the example client, prints the exchange (credentials
//! redacted) and a summary, and checks every message arrived byte for byte.

#[path = "shared/client.rs"]
mod client;
#[path = "shared/conn.rs"]
mod conn;
#[path = "shared/maildir.rs"]
#[allow(dead_code)]
mod maildir;
#[path = "shared/server.rs"]
mod server;
#[path = "shared/tls.rs"]
#[allow(dead_code)]
mod tls;
#[path = "shared/trace.rs"]
#[allow(dead_code)]
mod trace;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use pop3_proto::secret::Secret;
use pop3_proto::url::PopUrl;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> std::io::Result<bool> {
    let work = std::env::temp_dir().join(format!("pop3-proto-demo-{}", std::process::id()));
    let mailbox = work.join("Maildir");
    let out = work.join("fetched");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/maildir");
    maildir::copy_maildir(&sample, &mailbox)?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("pop3-proto demo: serving a copy of the sample mailbox on {addr}");
    println!("(the exchange below is the server's view; credentials are redacted)\n");
    let mut users = HashMap::new();
    users.insert("alice".to_string(), "wonderland".to_string());
    tokio::spawn(server::serve(
        listener,
        server::ServeOptions {
            maildir: mailbox.clone(),
            users,
            tls: None,
            implicit_tls: false,
            require_tls: false,
            trace: true,
            trace_to_stdout: true,
        },
    ));

    let url = PopUrl::parse(&format!("pop://alice@{addr}")).map_err(std::io::Error::other)?;
    let options = client::FetchOptions {
        password: Some(Secret::new(b"wonderland".to_vec())),
        out: Some(out.clone()),
        trace_to_stdout: true,
        ..client::FetchOptions::new(url)
    };
    let summary = client::fetch(&options).await?;
    // Let the server print its last lines.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    // Check every fetched file against the store (LF -> CRLF, as served).
    let store = maildir::Maildir::open(&mailbox)?.list().await?;
    let mut identical = 0;
    for (stored, saved) in store.iter().zip(&summary.saved) {
        let original = std::fs::read(&stored.path)?;
        if client::same_message(saved, &original) {
            identical += 1;
        }
    }
    println!("\nsummary:");
    println!("  messages listed:   {}", summary.listed);
    println!(
        "  messages fetched:  {} ({} octets)",
        summary.fetched, summary.octets
    );
    println!(
        "  byte-exact:        {identical}/{} (compared with the Maildir files, LF as CRLF)",
        store.len()
    );
    println!("  saved in:          {}", out.display());
    for warning in &summary.warnings {
        println!("  warning: {warning}");
    }
    for problem in &summary.problems {
        println!("  problem: {problem}");
    }
    let ok = summary.complete() && identical == store.len() && !store.is_empty();
    println!("  result:            {}", if ok { "OK" } else { "FAILED" });
    let _ = std::fs::remove_dir_all(&work);
    Ok(ok)
}
