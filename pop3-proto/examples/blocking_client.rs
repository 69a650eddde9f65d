//! A minimal blocking POP3 client over `std::net`: no async runtime needed.
//! `POP3_PASSWORD=wonderland cargo run --example blocking_client -- 127.0.0.1:1110 alice`
//!
//! `next_event()?` is safe: an `Err` means the session is over; a command that
//! failed in a way the session survives comes back as `Event::Failed`.
use pop3_proto::client::{Client, ClientConfig, Event};
use pop3_proto::types::{Command, MessageNumber, Password, Username};
use pop3_proto::Machine;
use std::io::{Read, Write};
use std::net::TcpStream;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:1110".into());
    let user = args.next().unwrap_or_else(|| "alice".into());
    let pass = std::env::var("POP3_PASSWORD").unwrap_or_default();
    let mut tcp = TcpStream::connect(addr)?;
    let mut client = Client::new(ClientConfig::default());
    let mut buf = [0u8; 16 * 1024];
    let mut eof = false;
    // Runs the machine until `done` says yes, writing and reading as it asks.
    let mut pump = |client: &mut Client, done: &mut dyn FnMut(&Event) -> bool| loop {
        while let Some(out) = client.take_output() {
            tcp.write_all(&out)?;
        }
        match client.next_event()? {
            Some(event) => {
                if let Event::BodyChunk { data, .. } = &event {
                    std::io::stdout().write_all(data)?;
                }
                if done(&event) {
                    return Ok::<Event, Box<dyn std::error::Error>>(event);
                }
            }
            // The machine said everything it could after end of file.
            None if eof => return Err("connection closed".into()),
            None => {
                // Never read more than the machine takes now.
                let room = client.input_room().min(buf.len());
                match tcp.read(&mut buf[..room])? {
                    0 => {
                        client.enqueue_eof();
                        eof = true;
                    }
                    n => {
                        let taken = client.enqueue_input(&buf[..n]);
                        debug_assert_eq!(taken, n);
                    }
                }
            }
        }
    };
    pump(&mut client, &mut |e| matches!(e, Event::Greeting { .. }))?;
    let commands = [
        Command::User(Username::new(user)?),
        Command::Pass(Password::new(pass)?),
        Command::Retr(MessageNumber::new(1)?),
        Command::Quit,
    ];
    for command in commands {
        let id = client.send(command)?;
        let reply = pump(&mut client, &mut |e| e.id() == Some(id) && e.is_final())?;
        match &reply {
            Event::Status { line, .. } if line.is_err() => {
                return Err(format!("server said: {:?}", line.text()).into());
            }
            // The command failed; the session would go on, but this example
            // has nothing else to try.
            Event::Failed { error, .. } => return Err(error.clone().into()),
            _ => {}
        }
    }
    Ok(())
}
