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
    // Runs the machine until `done` says yes, writing and reading as it asks.
    let mut pump = |client: &mut Client, done: &mut dyn FnMut(&Event) -> bool| loop {
        while let Some(out) = client.take_output() {
            tcp.write_all(&out)?;
        }
        match client.next_event()? {
            Some(Event::BodyChunk { data, .. }) => std::io::stdout().write_all(&data)?,
            Some(event) if done(&event) => return Ok::<Event, Box<dyn std::error::Error>>(event),
            Some(_) => {}
            // Never read more than the machine takes now.
            None => match tcp.read(&mut buf[..client.input_room().min(16 * 1024)])? {
                0 if client.is_closed() => return Err("connection closed".into()),
                0 => client.enqueue_eof(), // the next call says what was cut short
                n => assert_eq!(client.enqueue_input(&buf[..n]), n),
            },
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
        match pump(&mut client, &mut |e| e.id() == Some(id) && e.is_final())? {
            Event::Status { line, .. } if line.is_err() => {
                return Err(format!("server said: {:?}", line.text()).into())
            }
            Event::Failed { error, .. } => return Err(error.into()),
            _ => {}
        }
    }
    Ok(())
}
