//! The example POP3 client: fetches a maildrop named by a POP URL.
//!
//! ```text
//! POP3_PASSWORD=... cargo run --release --example fetch -- [OPTIONS] URL
//! ```
//! URL: `pop://[user[;AUTH=mech|;AUTH=+APOP]@]host[:port]` (RFC 2384, port 110),
//! `pops://...` for implicit TLS (port 995); `pop3://` and `pop3s://` are aliases.
//! `;AUTH=+USER` asks for USER/PASS. `--uidl-file FILE` leaves mail on the
//! server and saves only what is new. The exit status is 0 only when every
//! message wanted was saved whole; `fetch --help` says the rest.

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

const ABOUT: &str = "Fetch the messages of a POP3 maildrop and save each one as a file.";

const LONG_ABOUT: &str = "\
Fetch the messages of a POP3 maildrop and save each one as a file.

fetch logs in to the server named by URL, lists the maildrop and retrieves
every message (pipelined when the server allows it), saving each one as
DIR/<unique-id>.eml with --out, exactly the message's octets. A message is
written under a hidden temporary name and renamed only once whole. Mail is
left on the server unless --delete is given. With --uidl-file, only the
messages not saved by an earlier run are fetched.

URL forms (RFC 2384):
  pop://[USER[;AUTH=MECH]@]HOST[:PORT]    plain POP3, port 110; add --stls to upgrade
  pops://[USER[;AUTH=MECH]@]HOST[:PORT]   POP3 over implicit TLS, port 995
  pop3:// and pop3s:// are accepted as aliases.
  ;AUTH=+APOP asks for APOP, ;AUTH=+USER for USER/PASS, ;AUTH=PLAIN (or any
  SASL mechanism) for AUTH; without ;AUTH the best mechanism offered is used.

The password is read from the environment variable POP3_PASSWORD, never from
the URL or the command line. A cleartext password (USER/PASS, PLAIN, LOGIN) is
sent only under TLS unless --allow-cleartext is given.";

const AFTER_HELP: &str = "\
Exit status:
  0  every message wanted was saved whole (a size that differs from LIST is a
     warning on stderr, unless --strict-size)
  1  a message was not saved whole, or the connection, TLS, login or a file
     failed; what was saved stays saved
  2  the command line is wrong (unknown option, bad URL, bad --fingerprint,
     --uidl-file without --out)

Examples:
  POP3_PASSWORD=secret fetch --stls --out Mail pop://alice@mail.example.com
  POP3_PASSWORD=secret fetch --out Mail --uidl-file Mail/.uidl pops://alice@mail.example.com
  POP3_PASSWORD=secret fetch --stls --ca cert.pem --out Mail pop://alice@localhost:1110";

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "fetch",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
struct Args {
    /// The POP URL: pop://user[;AUTH=mech]@host[:port], or pops:// for implicit TLS.
    url: String,
    /// Save each message as DIR/<uidl>.eml (DIR/<number>.eml without UIDL).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Leave mail on the server and save only messages whose unique-id is not in
    /// FILE (one per line; missing = a first run). FILE is rewritten atomically
    /// after each message saved; needs --out.
    #[arg(long, value_name = "FILE")]
    uidl_file: Option<PathBuf>,
    /// DELE every message saved whole in this run, then QUIT to commit.
    #[arg(long)]
    delete: bool,
    /// A message whose size differs from LIST is not saved (exit status 1)
    /// instead of kept with a warning.
    #[arg(long)]
    strict_size: bool,
    /// Upgrade with STLS before sending any credential; fail if the server cannot.
    #[arg(long)]
    stls: bool,
    /// Trust this PEM certificate or CA (default: the public Web PKI roots); the
    /// server's own certificate, self-signed, works too.
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
    /// Trust only the server certificate whose SHA-256 (of its DER) is HEX
    /// (colons allowed, any case), as `openssl x509 -noout -fingerprint -sha256`
    /// prints it. The pin replaces the --ca or Web PKI check (as in mpop and
    /// fetchmail); a certificate that does not match fails before any credential.
    #[arg(long, value_name = "sha256:HEX")]
    fingerprint: Option<String>,
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
    let fingerprint = match args.fingerprint.as_deref().map(tls::Fingerprint::parse) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            eprintln!("fetch: --fingerprint {e}");
            return ExitCode::from(2);
        }
    };
    if args.uidl_file.is_some() && args.out.is_none() {
        eprintln!("fetch: --uidl-file needs --out: a message marked seen must be saved somewhere");
        return ExitCode::from(2);
    }
    // The password comes from the environment, never from the URL or argv.
    let password = std::env::var_os("POP3_PASSWORD")
        .map(|p| Secret::new(p.to_string_lossy().into_owned().into_bytes()));
    let options = client::FetchOptions {
        password,
        out: args.out,
        delete: args.delete,
        stls: args.stls,
        ca: args.ca,
        allow_cleartext: args.allow_cleartext,
        trace: args.trace,
        progress: true,
        window: args.window,
        uidl_file: args.uidl_file,
        strict_size: args.strict_size,
        fingerprint,
        ..client::FetchOptions::new(url)
    };
    match client::fetch(&options).await {
        Ok(summary) => {
            for warning in &summary.warnings {
                eprintln!("fetch: warning: {warning}");
            }
            for problem in &summary.problems {
                eprintln!("fetch: {problem}");
            }
            if options.uidl_file.is_some() {
                println!(
                    "fetched {}/{} new messages ({} octets), {} already saved, {} listed, {} unique-ids forgotten, deleted {}",
                    summary.fetched,
                    summary.wanted,
                    summary.octets,
                    summary.already,
                    summary.listed,
                    summary.forgotten,
                    summary.deleted
                );
            } else {
                println!(
                    "fetched {}/{} messages ({} octets), deleted {}",
                    summary.fetched, summary.listed, summary.octets, summary.deleted
                );
            }
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
