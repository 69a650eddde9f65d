//! POP URLs (RFC 2384): TV-10 and the RFC's §7 examples as exact tests,
//! the URL forms of the `fetch` example, and round-trip properties.

use pop3_proto::types::Mechanism;
use pop3_proto::url::{Auth, DomainName, ExtensionName, Host, PopUrl, Scheme, UrlError};
use proptest::prelude::*;

fn sasl(name: &str) -> Auth {
    Auth::Sasl(Mechanism::new(name).unwrap())
}

/// One row of TV-10: user, auth, host, port.
fn check(
    url: &str,
    user: Option<&str>,
    auth: Option<Auth>,
    effective: Auth,
    host: &str,
    port: u16,
) {
    let parsed = PopUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(parsed.user(), user, "{url}");
    assert_eq!(parsed.auth(), auth.as_ref(), "{url}");
    assert_eq!(parsed.effective_auth(), effective, "{url}");
    assert_eq!(parsed.host().to_string(), host, "{url}");
    assert_eq!(parsed.port(), port, "{url}");
    assert!(!parsed.is_tls());
    assert_eq!(parsed.scheme(), Scheme::Pop);
    // Formatting gives the URL back, and parsing that gives the same value.
    assert_eq!(parsed.to_string(), url);
    assert_eq!(PopUrl::parse(&parsed.to_string()).unwrap(), parsed);
}

/// TV-10, row by row; the first three rows are RFC 2384 §7.
#[test]
fn tv10_table() {
    // `*` (implied): the URL has no ;AUTH=, and a user name alone means any.
    check(
        "pop://rg@mailsrv.qualcomm.com",
        Some("rg"),
        None,
        Auth::Any,
        "mailsrv.qualcomm.com",
        110,
    );
    check(
        "pop://rg;AUTH=+APOP@mail.eudora.com:8110",
        Some("rg"),
        Some(Auth::Apop),
        Auth::Apop,
        "mail.eudora.com",
        8110,
    );
    check(
        "pop://baz;AUTH=SCRAM-MD5@foo.bar",
        Some("baz"),
        Some(sasl("SCRAM-MD5")),
        sasl("SCRAM-MD5"),
        "foo.bar",
        110,
    );
    // No user: ask; no auth.
    check("pop://foo.bar", None, None, Auth::Any, "foo.bar", 110);
    check(
        "pop://a%20b;AUTH=*@h",
        Some("a b"),
        Some(Auth::Any),
        Auth::Any,
        "h",
        110,
    );
    assert_eq!(
        PopUrl::parse("pop://u:pw@h"),
        Err(UrlError::CleartextPassword)
    );
}

/// RFC 2384 §7: what each example asks the client to do.
#[test]
fn rfc2384_section7_examples() {
    // USER/PASS on port 110 (no mechanism named: any, R2384-3).
    let url = PopUrl::parse("pop://rg@mailsrv.qualcomm.com").unwrap();
    assert_eq!(
        (url.user(), url.port(), url.effective_auth()),
        (Some("rg"), 110, Auth::Any)
    );
    // APOP on port 8110.
    let url = PopUrl::parse("pop://rg;AUTH=+APOP@mail.eudora.com:8110").unwrap();
    assert_eq!(url.explicit_port(), Some(8110));
    assert_eq!(url.auth(), Some(&Auth::Apop));
    // AUTH SCRAM-MD5 on port 110.
    let url = PopUrl::parse("pop://baz;AUTH=SCRAM-MD5@foo.bar").unwrap();
    match url.auth() {
        Some(Auth::Sasl(m)) => assert_eq!(m.as_bytes(), b"SCRAM-MD5"),
        other => panic!("{other:?}"),
    }
    assert_eq!(url.port(), 110);
}

/// `;auth=` is matched without regard to case, and so is `+apop` (ABNF literals);
/// SASL names are kept in upper case, extension names as written.
#[test]
fn case_insensitive_auth() {
    let url = PopUrl::parse("pop://rg;auth=+apop@h").unwrap();
    assert_eq!(url.auth(), Some(&Auth::Apop));
    assert_eq!(url.to_string(), "pop://rg;AUTH=+APOP@h");
    let url = PopUrl::parse("pop://rg;Auth=cram-md5@h").unwrap();
    assert_eq!(url.auth(), Some(&sasl("CRAM-MD5")));
    let url = PopUrl::parse("pop://rg;AUTH=+X-Token@h").unwrap();
    assert_eq!(
        url.auth(),
        Some(&Auth::Extension(ExtensionName::new("X-Token").unwrap()))
    );
    assert_eq!(url.to_string(), "pop://rg;AUTH=+X-Token@h");
    // A percent-encoded value is decoded before it is classified.
    let url = PopUrl::parse("pop://rg;AUTH=%2BAPOP@h").unwrap();
    assert_eq!(url.auth(), Some(&Auth::Apop));
    let url = PopUrl::parse("pop://rg;AUTH=%2a@h").unwrap();
    assert_eq!(url.auth(), Some(&Auth::Any));
    // Not a SASL name.
    assert!(matches!(
        PopUrl::parse("pop://rg;AUTH=a.b@h"),
        Err(UrlError::InvalidMechanism(_))
    ));
    // An extension name with encoded reserved characters.
    let url = PopUrl::parse("pop://rg;AUTH=+a%3Bb@h").unwrap();
    assert_eq!(url.to_string(), "pop://rg;AUTH=+a%3Bb@h");
}

/// The `fetch` example's URL forms, with `pops://` and the aliases.
#[test]
fn schemes_and_default_ports() {
    for (url, scheme, tls, port) in [
        ("pop://h", Scheme::Pop, false, 110),
        ("pop3://h", Scheme::Pop3, false, 110),
        ("pops://h", Scheme::Pops, true, 995),
        ("pop3s://h", Scheme::Pop3s, true, 995),
        ("POP3S://h", Scheme::Pop3s, true, 995),
        ("pops://h:1995", Scheme::Pops, true, 1995),
        ("pop3://h:65535", Scheme::Pop3, false, 65535),
        ("pop://h:1", Scheme::Pop, false, 1),
    ] {
        let parsed = PopUrl::parse(url).unwrap();
        assert_eq!(parsed.scheme(), scheme, "{url}");
        assert_eq!(parsed.is_tls(), tls, "{url}");
        assert_eq!(parsed.port(), port, "{url}");
    }
    assert_eq!(PopUrl::parse("POP3S://h").unwrap().to_string(), "pop3s://h");
}

/// curl writes `pop3://host/`: one trailing slash is tolerated and dropped; any
/// more path, a query or a fragment is an error.
#[test]
fn trailing_slash_tolerated_path_refused() {
    assert_eq!(
        PopUrl::parse("pop3://host/").unwrap(),
        PopUrl::parse("pop3://host").unwrap()
    );
    assert_eq!(
        PopUrl::parse("pop3://u@host:99/").unwrap().to_string(),
        "pop3://u@host:99"
    );
    assert_eq!(
        PopUrl::parse("pop://h/INBOX"),
        Err(UrlError::PathNotAllowed)
    );
    assert_eq!(PopUrl::parse("pop://h/?q"), Err(UrlError::QueryNotAllowed));
    assert_eq!(
        PopUrl::parse("pop://h#f"),
        Err(UrlError::FragmentNotAllowed)
    );
}

/// R2384-5: relative URLs are refused.
#[test]
fn relative_urls_refused() {
    for url in ["//h", "rg@h", "/x", "", "h", ";AUTH=*@h", "1pop://h"] {
        assert_eq!(PopUrl::parse(url), Err(UrlError::NotAbsolute), "{url:?}");
    }
    assert!(matches!(
        PopUrl::parse("imap://h"),
        Err(UrlError::UnsupportedScheme(_))
    ));
    assert!(matches!(
        PopUrl::parse("http://h"),
        Err(UrlError::UnsupportedScheme(_))
    ));
}

/// The grammar has no `auth` without `enc-user`: refused.
#[test]
fn auth_requires_user() {
    assert_eq!(
        PopUrl::parse("pop://;AUTH=*@h"),
        Err(UrlError::AuthWithoutUser)
    );
    assert_eq!(
        PopUrl::parse("pop://;AUTH=+APOP@h"),
        Err(UrlError::AuthWithoutUser)
    );
    let url = PopUrl::new(Scheme::Pop, "h".parse().unwrap());
    assert_eq!(url.with_auth(Auth::Any), Err(UrlError::AuthWithoutUser));
}

#[test]
fn hosts() {
    let url = PopUrl::parse("pop://[::1]:2110").unwrap();
    assert_eq!(url.host(), &Host::Ipv6(std::net::Ipv6Addr::LOCALHOST));
    assert_eq!(url.to_string(), "pop://[::1]:2110");
    let url = PopUrl::parse("pop://127.0.0.1").unwrap();
    assert_eq!(url.host(), &Host::Ipv4(std::net::Ipv4Addr::LOCALHOST));
    let url = PopUrl::parse("pop://Mail.Example.ORG").unwrap();
    assert_eq!(
        url.host(),
        &Host::Domain(DomainName::new("mail.example.org").unwrap())
    );
    assert_eq!(url.to_string(), "pop://mail.example.org");
    let url = PopUrl::parse("pop://localhost").unwrap();
    assert_eq!(url.host().to_connect_string(), "localhost");
    for bad in [
        "pop://1.2.3",
        "pop://256.1.1.1",
        "pop://a..b",
        "pop://-a.b",
        "pop://a_b.c",
        "pop://ex ample",
        "pop://h\u{e9}",
        "pop://[::g]",
        "pop://[::1]]",
        "pop://::1",
    ] {
        assert!(PopUrl::parse(bad).is_err(), "{bad}");
    }
}

/// Every octet outside the clear `achar` set is percent-encoded on output, and
/// decoded to UTF-8 on input.
#[test]
fn percent_encoding() {
    let url = PopUrl::new(Scheme::Pop, "h".parse().unwrap())
        .with_user("José;AUTH=x@y:z/%")
        .unwrap();
    let text = url.to_string();
    assert_eq!(text, "pop://Jos%C3%A9%3BAUTH=x%40y%3Az%2F%25@h");
    assert_eq!(PopUrl::parse(&text).unwrap(), url);
    // Clear achar characters stay as they are.
    let url = PopUrl::parse("pop://a$-_.+!*'(),&=~@h").unwrap();
    assert_eq!(url.user(), Some("a$-_.+!*'(),&=~"));
    assert_eq!(url.to_string(), "pop://a$-_.+!*'(),&=~@h");
    // Lower-case hex is accepted; output is upper case.
    let url = PopUrl::parse("pop://a%2fb@h").unwrap();
    assert_eq!(url.user(), Some("a/b"));
    assert_eq!(url.to_string(), "pop://a%2Fb@h");
}

fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![
        Just(Scheme::Pop),
        Just(Scheme::Pop3),
        Just(Scheme::Pops),
        Just(Scheme::Pop3s)
    ]
}

fn host() -> impl Strategy<Value = Host> {
    prop_oneof![
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?(\\.[a-zA-Z]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?){0,3}"
            .prop_filter_map("valid name", |s| DomainName::new(&s).ok().map(Host::Domain)),
        any::<u32>().prop_map(|n| Host::Ipv4(n.into())),
        any::<u128>().prop_map(|n| Host::Ipv6(n.into())),
    ]
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::Any),
        Just(Auth::Apop),
        "[A-Za-z0-9_-]{1,20}".prop_map(|m| Auth::Sasl(Mechanism::new(m).unwrap())),
        "\\PC{1,12}".prop_filter_map("valid extension", |s| ExtensionName::new(&s)
            .ok()
            .map(Auth::Extension)),
    ]
}

fn url() -> impl Strategy<Value = PopUrl> {
    (
        scheme(),
        host(),
        proptest::option::of(1u16..),
        proptest::option::of("\\PC{1,16}"),
        proptest::option::of(auth()),
    )
        .prop_map(|(scheme, host, port, user, auth)| {
            let mut url = PopUrl::new(scheme, host);
            if let Some(port) = port {
                url = url.with_port(port).unwrap();
            }
            if let Some(user) = user {
                url = url.with_user(&user).unwrap();
                if let Some(auth) = auth {
                    url = url.with_auth(auth).unwrap();
                }
            }
            url
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Round trip: parse(format(x)) == x.
    #[test]
    fn round_trip(url in url()) {
        let text = url.to_string();
        prop_assert!(text.is_ascii());
        prop_assert_eq!(PopUrl::parse(&text), Ok(url));
    }

    /// Any string: no panic; whatever parses formats to a string that parses to
    /// the same value.
    #[test]
    fn arbitrary_strings(s in "\\PC{0,40}") {
        if let Ok(url) = PopUrl::parse(&s) {
            prop_assert_eq!(PopUrl::parse(&url.to_string()), Ok(url));
        }
    }

    /// Strings close to the grammar, to reach deep into the parser.
    #[test]
    fn near_grammar_strings(
        s in "(pop|pops|pop3|POP3S|imap)?(:|://)([a-z;=+*%0-9A-F:@]{0,12})(@)?([a-z0-9.\\[\\]:]{0,12})(/|\\?|#)?[a-z]{0,2}"
    ) {
        if let Ok(url) = PopUrl::parse(&s) {
            prop_assert_eq!(PopUrl::parse(&url.to_string()), Ok(url));
        }
    }
}
