//! The example POP3 server: tokio, one pop3-proto state machine per connection,
//! Maildir storage, APOP, SASL (SCRAM, CRAM-MD5, PLAIN, LOGIN), STLS and implicit
//! TLS with rustls.
//!
//! ```text
//! cargo run --release --example serve -- [--listen 127.0.0.1:1110] [--maildir DIR]
//!     [--user NAME:PASS ...] [--tls-cert PEM --tls-key PEM] [--implicit-tls] [--trace]
//! ```
//! With no `--maildir` it serves a copy of the bundled sample mailbox; the default
//! user is `alice:wonderland`.

#[path = "shared/conn.rs"]
#[allow(dead_code)]
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

use clap::Parser;

/// Serve a Maildir over POP3.
#[derive(Parser, Debug)]
#[command(name = "serve", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:1110")]
    listen: String,
    /// The Maildir to serve (DIR/<user>/ when it exists, else DIR for every user).
    /// Default: a copy of the bundled sample mailbox.
    #[arg(long)]
    maildir: Option<PathBuf>,
    /// A user, as NAME:PASS (repeatable). Default: alice:wonderland.
    #[arg(long = "user")]
    users: Vec<String>,
    /// PEM certificate chain: enables STLS (or implicit TLS).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// TLS from the first byte (pop3s, RFC 8314) instead of STLS.
    #[arg(long, requires = "tls_cert")]
    implicit_tls: bool,
    /// Refuse cleartext logins before STLS (RFC 2595 §2.3).
    #[arg(long)]
    require_tls: bool,
    /// Print the exchange on stderr, credentials redacted.
    #[arg(long)]
    trace: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let maildir = match args.maildir {
        Some(dir) => dir,
        None => {
            let copy =
                std::env::temp_dir().join(format!("pop3-proto-serve-{}", std::process::id()));
            let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/maildir");
            maildir::copy_maildir(&sample, &copy)?;
            eprintln!("serving a copy of the sample mailbox in {}", copy.display());
            copy
        }
    };
    let mut users = HashMap::new();
    for spec in &args.users {
        let (name, pass) = spec
            .split_once(':')
            .ok_or_else(|| std::io::Error::other(format!("--user {spec:?}: expected NAME:PASS")))?;
        users.insert(name.to_string(), pass.to_string());
    }
    if users.is_empty() {
        users.insert("alice".to_string(), "wonderland".to_string());
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    // A line scripts and tests wait for.
    println!("listening on {}", listener.local_addr()?);
    server::serve(
        listener,
        server::ServeOptions {
            maildir,
            users,
            tls,
            implicit_tls: args.implicit_tls,
            require_tls: args.require_tls,
            trace: args.trace,
            trace_to_stdout: false,
        },
    )
    .await
}
