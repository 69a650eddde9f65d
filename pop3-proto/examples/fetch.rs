//! The example POP3 client: fetches a maildrop named by a POP URL.
//!
//! ```text
//! POP3_PASSWORD=... cargo run --release --example fetch -- [OPTIONS] URL
//! ```
//! URL: `pop://[user[;AUTH=mech|;AUTH=+APOP]@]host[:port]` (RFC 2384, port 110),
//! `pops://...` for implicit TLS (port 995); `pop3://` and `pop3s://` are aliases.
//! `;AUTH=+USER` asks for USER/PASS. The exit status is 0 only when every message
//! arrived whole.

#[path = "shared/client.rs"]
#[allow(dead_code)]
mod client;
#[path = "shared/conn.rs"]
#[allow(dead_code)]
mod conn;
#[path = "shared/tls.rs"]
#[allow(dead_code)]
mod tls;
#[path = "shared/trace.rs"]
#[allow(dead_code)]
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pop3_proto::secret::Secret;
use pop3_proto::url::PopUrl;

/// Fetch every message of a POP3 maildrop.
#[derive(Parser, Debug)]
#[command(name = "fetch", version, about)]
struct Args {
    /// The POP URL: pop://user[;AUTH=mech]@host[:port], or pops:// for implicit TLS.
    url: String,
    /// Save each message as DIR/<uidl>.eml.
    #[arg(long)]
    out: Option<PathBuf>,
    /// DELE every message saved, then QUIT to commit.
    #[arg(long)]
    delete: bool,
    /// Upgrade with STLS before sending any credential; fail if the server cannot.
    #[arg(long)]
    stls: bool,
    /// Trust this PEM certificate or CA (default: the public Web PKI roots).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Allow a cleartext password (USER/PASS, PLAIN, LOGIN) without TLS.
    #[arg(long)]
    allow_cleartext: bool,
    /// Print the protocol exchange on stderr, credentials redacted.
    #[arg(long)]
    trace: bool,
    /// Most RETR commands in flight when the server lists PIPELINING.
    #[arg(long, default_value_t = 32)]
    window: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let url = match PopUrl::parse(&args.url) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("fetch: {}: {e}", args.url);
            return ExitCode::from(2);
        }
    };
    // The password comes from the environment, never from the URL or argv.
    let password = std::env::var_os("POP3_PASSWORD")
        .map(|p| Secret::new(p.to_string_lossy().into_owned().into_bytes()));
    let options = client::FetchOptions {
        url,
        password,
        out: args.out,
        delete: args.delete,
        stls: args.stls,
        ca: args.ca,
        allow_cleartext: args.allow_cleartext,
        trace: args.trace,
        trace_to_stdout: false,
        progress: true,
        window: args.window,
    };
    match client::fetch(&options).await {
        Ok(summary) => {
            for problem in &summary.problems {
                eprintln!("fetch: {problem}");
            }
            println!(
                "fetched {}/{} messages ({} octets), deleted {}",
                summary.fetched, summary.listed, summary.octets, summary.deleted
            );
            if summary.complete() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("fetch: {e}");
            ExitCode::FAILURE
        }
    }
}
