//! POP URLs (RFC 2384): parse, format, parse again.
//!
//! Invariants: no panic on any string; a URL that parses formats to a string that
//! parses back to the same URL, and formatting is then stable (the second format is
//! the first); a URL built from arbitrary parts through the checked builders formats
//! to a string that parses back to it.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use pop3_proto::types::Mechanism;
use pop3_proto::url::{Auth, ExtensionName, Host, PopUrl, Scheme};

fn built(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<PopUrl>> {
    let scheme = *u.choose(&[Scheme::Pop, Scheme::Pop3, Scheme::Pops, Scheme::Pop3s])?;
    let host: String = u.arbitrary()?;
    let Ok(host) = host.parse::<Host>() else {
        return Ok(None);
    };
    let mut url = PopUrl::new(scheme, host);
    if u.arbitrary()? {
        match url.clone().with_port(u.arbitrary()?) {
            Ok(v) => url = v,
            Err(_) => return Ok(None),
        }
    }
    if u.arbitrary()? {
        let user: String = u.arbitrary()?;
        match url.clone().with_user(&user) {
            Ok(v) => url = v,
            Err(_) => return Ok(None),
        }
        let auth = match u.int_in_range(0u8..=4)? {
            0 => None,
            1 => Some(Auth::Any),
            2 => Some(Auth::Apop),
            3 => Some(Auth::Sasl(u.arbitrary::<Mechanism>()?)),
            _ => {
                let name: String = u.arbitrary()?;
                ExtensionName::new(&name).ok().map(Auth::Extension)
            }
        };
        if let Some(auth) = auth {
            url = url.with_auth(auth).expect("a URL with a user takes ;AUTH=");
        }
    }
    Ok(Some(url))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(url) = PopUrl::parse(s) {
            let formatted = url.to_string();
            let back = PopUrl::parse(&formatted)
                .unwrap_or_else(|e| panic!("{s:?} -> {formatted:?} fails: {e:?}"));
            assert_eq!(back, url, "{s:?} -> {formatted:?}");
            assert_eq!(back.to_string(), formatted, "formatting is stable");
            assert!(url.port() != 0);
        }
    }
    let mut u = Unstructured::new(data);
    if let Ok(Some(url)) = built(&mut u) {
        let formatted = url.to_string();
        let back = PopUrl::parse(&formatted)
            .unwrap_or_else(|e| panic!("{url:?} -> {formatted:?} fails: {e:?}"));
        assert_eq!(back, url, "{formatted:?}");
    }
});
