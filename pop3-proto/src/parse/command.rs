//! Command lines (RFC 1939 §3, RFC 2449 §3) and their arguments.

use alloc::vec::Vec;

use super::{bad, check_line, decimal_u32, message_number, Cursor};
use crate::error::ParseError;
use crate::options::CommandOptions;
use crate::types::{
    ApopDigest, Base64Text, Command, Extension, InitialResponse, Keyword, LanguageRange, Mechanism,
    MessageNumber, Param, Password, Username, Xtnd,
};

type Args<'a> = [(usize, &'a [u8])];

/// Checks the number of arguments (E-13).
fn arity(what: &'static str, args: &Args<'_>, min: usize, max: usize) -> Result<(), ParseError> {
    if args.len() < min {
        return Err(ParseError::MissingArgument { what });
    }
    match args.get(max) {
        Some(&(offset, _)) => Err(ParseError::ExtraArgument { what, offset }),
        None => Ok(()),
    }
}

/// The one argument of a command that takes exactly one.
fn one<'a>(what: &'static str, args: &Args<'a>) -> Result<(usize, &'a [u8]), ParseError> {
    arity(what, args, 1, 1)?;
    args.first()
        .copied()
        .ok_or(ParseError::MissingArgument { what })
}

/// The argument of a command that takes at most one, read by `read`.
fn optional<'a, T>(
    what: &'static str,
    args: &Args<'a>,
    read: impl FnOnce((usize, &'a [u8])) -> Result<T, ParseError>,
) -> Result<Option<T>, ParseError> {
    arity(what, args, 0, 1)?;
    args.first().copied().map(read).transpose()
}

fn msg(what: &'static str, arg: (usize, &[u8])) -> Result<MessageNumber, ParseError> {
    message_number(what, arg.0, arg.1)
}

fn params(what: &'static str, args: &Args<'_>) -> Result<Vec<Param>, ParseError> {
    args.iter()
        .map(|&(_, a)| Param::new(a).map_err(bad(what)))
        .collect()
}

impl Command {
    /// Parses one command line, without its CRLF, strictly (R1939-2): keywords in
    /// any case (R1939-3), exactly one space between tokens, decimal numbers
    /// (leading zeros accepted, signs refused, 0 refused for message numbers,
    /// E-12), the exact number of arguments (E-13). PASS takes everything after the
    /// first space, spaces kept (R1939-26). An unknown keyword gives
    /// [`Command::Other`].
    ///
    /// ```
    /// use pop3_proto::types::{Command, MessageNumber};
    /// assert_eq!(Command::parse(b"retr 01").unwrap(), Command::Retr(MessageNumber::new(1).unwrap()));
    /// assert!(Command::parse(b"RETR 0").is_err());
    /// assert!(Command::parse(b"STAT 1").is_err());
    /// ```
    pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
        Self::parse_with(line, &CommandOptions::default())
    }

    /// Parses one command line with the given options (E-27).
    pub fn parse_with(line: &[u8], options: &CommandOptions) -> Result<Command, ParseError> {
        check_line(line)?;
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        let mut cursor = Cursor::new(line, options.collapse_spaces);
        let (_, keyword) = cursor.first()?;
        if keyword.eq_ignore_ascii_case(b"PASS") {
            // R1939-26, IMPL-5: everything after the first space, as it is.
            let password = match cursor.rest().split_first() {
                None => return Err(ParseError::MissingArgument { what: "PASS" }),
                Some((_, password)) => password,
            };
            return Password::new(password)
                .map(Command::Pass)
                .map_err(bad("PASS"));
        }
        let args = cursor.tokens()?;
        let args = args.as_slice();
        let is = |name: &str| keyword.eq_ignore_ascii_case(name.as_bytes());
        let no_args =
            |what: &'static str, command: Command| arity(what, args, 0, 0).map(|()| command);
        if is("USER") {
            let (_, name) = one("USER", args)?;
            Ok(Command::User(Username::new(name).map_err(bad("USER"))?))
        } else if is("APOP") {
            arity("APOP", args, 2, 2)?;
            let (name, digest) = match args {
                [(_, name), (_, digest)] => (name, digest),
                _ => return Err(ParseError::MissingArgument { what: "APOP" }),
            };
            Ok(Command::Apop {
                name: Username::new(*name).map_err(bad("APOP"))?,
                digest: ApopDigest::new(*digest).map_err(bad("APOP"))?,
            })
        } else if is("AUTH") {
            // IMPL-9: a bare AUTH is an error.
            arity("AUTH", args, 1, 2)?;
            let mut args = args.iter();
            let mechanism = match args.next() {
                Some(&(_, m)) => Mechanism::new(m).map_err(bad("AUTH"))?,
                None => return Err(ParseError::MissingArgument { what: "AUTH" }),
            };
            let initial_response = match args.next() {
                None => None,
                Some((_, b"=")) => Some(InitialResponse::Empty),
                Some(&(_, ir)) => Some(InitialResponse::Base64(
                    Base64Text::new(ir).map_err(bad("AUTH"))?,
                )),
            };
            Ok(Command::Auth {
                mechanism,
                initial_response,
            })
        } else if is("STLS") {
            no_args("STLS", Command::Stls)
        } else if is("CAPA") {
            no_args("CAPA", Command::Capa)
        } else if is("UTF8") {
            no_args("UTF8", Command::Utf8)
        } else if is("LANG") {
            let range = optional("LANG", args, |(_, r)| {
                LanguageRange::new(r).map_err(bad("LANG"))
            })?;
            Ok(Command::Lang(range))
        } else if is("QUIT") {
            no_args("QUIT", Command::Quit)
        } else if is("STAT") {
            no_args("STAT", Command::Stat)
        } else if is("LIST") {
            Ok(Command::List(optional("LIST", args, |a| msg("LIST", a))?))
        } else if is("RETR") {
            Ok(Command::Retr(msg("RETR", one("RETR", args)?)?))
        } else if is("DELE") {
            Ok(Command::Dele(msg("DELE", one("DELE", args)?)?))
        } else if is("NOOP") {
            no_args("NOOP", Command::Noop)
        } else if is("RSET") {
            no_args("RSET", Command::Rset)
        } else if is("TOP") {
            arity("TOP", args, 2, 2)?;
            match args {
                [m, (at, n)] => Ok(Command::Top {
                    msg: msg("TOP", *m)?,
                    lines: decimal_u32("TOP", *at, n)?,
                }),
                _ => Err(ParseError::MissingArgument { what: "TOP" }),
            }
        } else if is("UIDL") {
            Ok(Command::Uidl(optional("UIDL", args, |a| msg("UIDL", a))?))
        } else if is("XTND") {
            parse_xtnd(args).map(Command::Xtnd)
        } else {
            let keyword = Keyword::new(keyword).map_err(bad("command keyword"))?;
            let args = params("command", args)?;
            Extension::command(keyword, args)
                .map(Command::Other)
                .map_err(bad("command"))
        }
    }
}

/// `XTND subcommand [args]` (RFC 1082).
fn parse_xtnd(args: &Args<'_>) -> Result<Xtnd, ParseError> {
    let Some((&(_, sub), rest)) = args.split_first() else {
        return Err(ParseError::MissingArgument { what: "XTND" });
    };
    let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
    let name = |what, a: (usize, &[u8])| Param::new(a.1).map_err(bad(what));
    if is("BBOARDS") {
        let n = optional("XTND BBOARDS", rest, |a| name("XTND BBOARDS", a))?;
        Ok(Xtnd::Bboards(n))
    } else if is("ARCHIVE") {
        Ok(Xtnd::Archive(name(
            "XTND ARCHIVE",
            one("XTND ARCHIVE", rest)?,
        )?))
    } else if is("X-BBOARDS") {
        Ok(Xtnd::XBboards(name(
            "XTND X-BBOARDS",
            one("XTND X-BBOARDS", rest)?,
        )?))
    } else {
        let sub = Keyword::new(sub).map_err(bad("XTND"))?;
        Extension::xtnd(sub, params("XTND", rest)?)
            .map(Xtnd::Other)
            .map_err(bad("XTND"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(n: u32) -> MessageNumber {
        MessageNumber::new(n).unwrap()
    }

    #[test]
    fn keywords_any_case_r1939_3() {
        for line in [&b"STAT"[..], b"stat", b"Stat", b"sTaT"] {
            assert_eq!(Command::parse(line), Ok(Command::Stat));
        }
    }

    #[test]
    fn pass_takes_the_rest_r1939_26() {
        let Ok(Command::Pass(pw)) = Command::parse(b"PASS  two  words ") else {
            panic!()
        };
        assert_eq!(pw.expose_secret(), b" two  words ");
        let Ok(Command::Pass(pw)) = Command::parse(b"pass ") else {
            panic!()
        };
        assert_eq!(pw.expose_secret(), b"");
        assert_eq!(
            Command::parse(b"PASS"),
            Err(ParseError::MissingArgument { what: "PASS" })
        );
        // PASS is not collapsed even in lenient mode.
        let Ok(Command::Pass(pw)) = Command::parse_with(b"PASS  x", &CommandOptions::lenient())
        else {
            panic!()
        };
        assert_eq!(pw.expose_secret(), b" x");
    }

    #[test]
    fn spacing_e27() {
        assert_eq!(
            Command::parse(b"RETR  1"),
            Err(ParseError::ExtraSpace { offset: 5 })
        );
        assert_eq!(
            Command::parse(b"RETR 1 "),
            Err(ParseError::ExtraSpace { offset: 6 })
        );
        assert_eq!(
            Command::parse(b" RETR 1"),
            Err(ParseError::ExtraSpace { offset: 0 })
        );
        let lenient = CommandOptions::lenient();
        assert_eq!(
            Command::parse_with(b"  TOP   1    2  ", &lenient),
            Ok(Command::Top {
                msg: n(1),
                lines: 2
            })
        );
        assert_eq!(
            Command::parse_with(b"   ", &lenient),
            Err(ParseError::Empty)
        );
    }

    #[test]
    fn auth_forms_r5034_7() {
        assert_eq!(
            Command::parse(b"AUTH PLAIN ="),
            Ok(Command::Auth {
                mechanism: Mechanism::new("PLAIN").unwrap(),
                initial_response: Some(InitialResponse::Empty)
            })
        );
        assert_eq!(
            Command::parse(b"AUTH"),
            Err(ParseError::MissingArgument { what: "AUTH" })
        );
        assert!(Command::parse(b"AUTH PLAIN a!b").is_err());
        assert!(Command::parse(b"AUTH PLAIN =abc").is_err());
        assert!(Command::parse(b"AUTH PLAIN abc= x").is_err());
        assert!(Command::parse(b"AUTH PL@IN").is_err());
    }

    #[test]
    fn xtnd_subcommands() {
        assert_eq!(
            Command::parse(b"XTND BBOARDS"),
            Ok(Command::Xtnd(Xtnd::Bboards(None)))
        );
        assert_eq!(
            Command::parse(b"xtnd bboards system"),
            Ok(Command::Xtnd(Xtnd::Bboards(Some(
                Param::new("system").unwrap()
            ))))
        );
        assert!(Command::parse(b"XTND ARCHIVE").is_err());
        assert!(Command::parse(b"XTND").is_err());
        let Ok(Command::Xtnd(Xtnd::Other(x))) = Command::parse(b"XTND xmit a") else {
            panic!()
        };
        assert_eq!(x.keyword().as_bytes(), b"XMIT");
        assert_eq!(x.args().len(), 1);
    }

    #[test]
    fn unknown_and_forbidden() {
        let Ok(Command::Other(x)) = Command::parse(b"xlst 1 2") else {
            panic!()
        };
        assert_eq!(x.keyword().as_bytes(), b"XLST");
        assert_eq!(
            Command::parse(b"USER a\rb"),
            Err(ParseError::ForbiddenByte {
                byte: b'\r',
                offset: 6
            })
        );
        assert_eq!(Command::parse(b""), Err(ParseError::Empty));
    }
}
