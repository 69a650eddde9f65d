//! A minimal blocking POP3 client over `std::net`: no async runtime needed.
//! `POP3_PASSWORD=wonderland cargo run --example blocking_client -- 127.0.0.1:1110 alice`
use pop3_proto::client::{Client, ClientConfig, Event};
use pop3_proto::types::{Command, MessageNumber, Password, Username};
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
        if let Some(out) = client.take_output() {
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
            None => match tcp.read(&mut buf)? {
                0 => return Err("connection closed".into()),
                n => client.enqueue_input(&buf[..n]),
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
        let reply = pump(&mut client, &mut |e| e.id() == Some(id) && e.is_final())?;
        if let Event::Status { line, .. } = &reply {
            if line.is_err() {
                return Err(format!("server said: {:?}", line.text()).into());
            }
        }
    }
    Ok(())
}
