//! Replies coming in: the command at the head of the queue decides how each is
//! read (a reply does not say whether it is multi-line, RFC 1939 §3), listings
//! are parsed and bounded, bodies stream through the dot decoder, and AUTH
//! continuations are read by the crate's parser and answered through the
//! mechanism (RFC 5034 §4).

use super::*;

impl Client {
    /// [`Machine::next_event`](crate::Machine::next_event): the next thing that
    /// happened, `Ok(None)` when more input is needed, or the error that ended
    /// the session (stored, and returned again by every later call).
    pub(super) fn poll_event(&mut self) -> Result<Option<Event>, ClientError> {
        if let Some(fatal) = &self.fatal {
            return Err(fatal.clone());
        }
        if let Some(event) = self.queued.pop_front() {
            return Ok(Some(event));
        }
        let result = match self.step() {
            Ok(None) if self.eof => self.at_eof(),
            other => other,
        };
        if let Err(error) = &result {
            self.fail(error.clone());
        }
        result
    }

    /// The input is exhausted and the connection closed.
    fn at_eof(&self) -> Result<Option<Event>, ClientError> {
        let clean = self.phase == Phase::Closed
            && self.pending.is_empty()
            && self.input.is_empty()
            && !self.framer.is_discarding();
        if clean {
            Ok(None)
        } else {
            Err(ClientError::ConnectionClosed {
                id: self.pending.front().map(|p| p.id),
            })
        }
    }

    fn step(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            match &mut self.reading {
                Reading::Body {
                    id,
                    decoder,
                    over_limit,
                    skipping,
                } => {
                    let id = *id;
                    if *over_limit {
                        *over_limit = false;
                        *skipping = true;
                        return Ok(Some(self.body_too_large(id)));
                    }
                    match decoder.decode(&mut self.input) {
                        Ok(BodyPiece::Data(mut data)) => {
                            if *skipping {
                                continue;
                            }
                            if let Some(limit) = self.config.max_body {
                                let total = decoder.body_len();
                                if total > limit {
                                    // Hand out exactly `limit` octets, whatever the
                                    // split, then the error.
                                    let before = total.saturating_sub(data.len() as u64);
                                    let keep = usize::try_from(limit.saturating_sub(before))
                                        .unwrap_or(0)
                                        .min(data.len());
                                    if keep == 0 {
                                        *skipping = true;
                                        return Ok(Some(self.body_too_large(id)));
                                    }
                                    data.truncate(keep);
                                    *over_limit = true;
                                }
                            }
                            return Ok(Some(Event::BodyChunk { id, data }));
                        }
                        Ok(BodyPiece::End) => {
                            let size = decoder.body_len();
                            let skipped = *skipping;
                            self.pending.pop_front();
                            self.reading = Reading::Lines;
                            self.framer.reset();
                            if skipped {
                                continue;
                            }
                            return Ok(Some(Event::BodyEnd { id, size }));
                        }
                        Ok(BodyPiece::NeedMore) => return Ok(None),
                        // The decoder has no limit of its own (see above);
                        // should it report one, it is the same condition.
                        Err(_) => {
                            *skipping = true;
                            return Ok(Some(self.body_too_large(id)));
                        }
                    }
                }
                Reading::Listing { .. } => {
                    if let Some(event) = self.listing_line()? {
                        return Ok(Some(event));
                    }
                    if matches!(self.reading, Reading::Listing { .. }) {
                        return Ok(None);
                    }
                    // The listing ended with nothing to report; go on.
                }
                Reading::Lines => {
                    match self.phase {
                        // QUIT was answered: nothing more may come (the same error
                        // whether the bytes came with the reply or after it).
                        Phase::Closed if !self.input.is_empty() => {
                            return Err(ClientError::InputAfterClose)
                        }
                        Phase::Closed | Phase::TlsHandshake => return Ok(None),
                        _ => {}
                    }
                    let sasl = self.pending.front().is_some_and(|p| p.kind == Kind::Auth);
                    let limit = if sasl {
                        self.config.max_sasl_line
                    } else {
                        self.config.max_line
                    };
                    if self.framer.config().max_line != limit {
                        let cfg = self.framer.config();
                        self.framer.set_config(FramingConfig {
                            max_line: limit,
                            ..cfg
                        });
                    }
                    let start = self.received.saturating_sub(self.input.len() as u64);
                    let line = match self.framer.next_line(&mut self.input) {
                        Ok(Some(line)) => line,
                        Ok(None) => return Ok(None),
                        Err(error) => {
                            return Err(ClientError::Framing {
                                id: self.pending.front().map(|p| p.id),
                                error,
                            })
                        }
                    };
                    if let Some(event) = self.on_line(&line.bytes, start)? {
                        return Ok(Some(event));
                    }
                }
            }
        }
    }

    fn body_too_large(&self, id: CommandId) -> Event {
        Event::Failed {
            id,
            error: CommandError::BodyTooLarge {
                limit: self.config.max_body.unwrap_or(u64::MAX),
            },
        }
    }

    /// The options the reply parsers use for the reply at the head of the queue.
    fn reply_options(&self, xtnd: bool) -> ReplyOptions {
        let mut options = self.config.reply_options;
        // IMPL-15: `+ OK` only for XTND.
        options.spaced_status &= xtnd;
        options.bboard_scan = self.bboard;
        options
    }

    /// Reads listing lines until the terminator or the end of the input.
    fn listing_line(&mut self) -> Result<Option<Event>, ClientError> {
        let options = self.reply_options(false);
        loop {
            let next = self.framer.next_line(&mut self.input);
            let Reading::Listing {
                id,
                listing,
                lines,
                bytes,
                overflowed,
                malformed,
            } = &mut self.reading
            else {
                return Ok(None);
            };
            let id = *id;
            let line = match next {
                Ok(Some(line)) => line,
                Ok(None) => return Ok(None),
                Err(_) => {
                    // A line too long or badly ended: skipped; the listing goes on.
                    *malformed = true;
                    continue;
                }
            };
            let content: &[u8] = &line.bytes;
            if content == b"." {
                let overflowed = *overflowed;
                let malformed = *malformed;
                let done = core::mem::replace(&mut self.reading, Reading::Lines);
                self.pending.pop_front();
                let Reading::Listing { listing, .. } = done else {
                    return Ok(None);
                };
                if overflowed {
                    return Ok(Some(Event::Failed {
                        id,
                        error: CommandError::ListingTooLarge {
                            max_lines: self.config.max_listing_lines,
                            max_bytes: self.config.max_listing_bytes,
                        },
                    }));
                }
                let event = listing.into_event(id);
                if let Event::Capabilities { capabilities, .. } = &event {
                    self.capabilities = Some(capabilities.clone());
                    self.capabilities_after_login = self.phase == Phase::Transaction;
                    if self.config.require_tls && !self.tls && !self.has_capability(b"STLS") {
                        self.queued.push_back(Event::Failed {
                            id,
                            error: CommandError::StlsNotOffered,
                        });
                    }
                }
                if malformed {
                    self.queued.push_front(Event::Failed {
                        id,
                        error: CommandError::BadListingLine,
                    });
                }
                return Ok(Some(event));
            }
            if *overflowed {
                continue;
            }
            // R1939-13: a line starting with "." loses that dot.
            let content = content.strip_prefix(b".").unwrap_or(content);
            *lines += 1;
            *bytes = bytes.saturating_add(content.len());
            if *lines > self.config.max_listing_lines || *bytes > self.config.max_listing_bytes {
                *overflowed = true;
                // Drop what was gathered: the listing is reported as an error.
                listing.clear();
            } else if !listing.push(content, &options) {
                *malformed = true;
            }
        }
    }

    /// A status line or an AUTH continuation.
    fn on_line(&mut self, line: &[u8], start: u64) -> Result<Option<Event>, ClientError> {
        if self.phase == Phase::Greeting {
            return self.on_greeting(line).map(Some);
        }
        let Some(head) = self.pending.front() else {
            return Err(ClientError::Unsolicited { len: line.len() });
        };
        // The reply must have arrived after its command (or, in AUTH, the client's
        // last line) went out: anything earlier was sent before the server could
        // have seen it.
        if start < head.received_at_send {
            return Err(ClientError::Unsolicited { len: line.len() });
        }
        let id = head.id;
        let kind = head.kind;
        let xtnd = head.xtnd;
        let options = self.reply_options(xtnd.is_some());
        let status = match StatusLine::parse_with(line, &options) {
            Ok(status) => status,
            Err(_) if kind == Kind::Auth && line.first() == Some(&b'+') => {
                return self.on_continuation(id, line, &options);
            }
            Err(_) if line.starts_with(b"+ ") || line == b"+" => {
                return Err(ClientError::UnexpectedContinuation { id })
            }
            Err(_) => return Err(ClientError::BadStatusLine { id: Some(id) }),
        };
        // Multi-line replies keep their command at the head until the terminator.
        let multi_line = matches!(kind, Kind::Capa | Kind::Listing(_) | Kind::Body);
        if status.is_err() || !multi_line {
            self.pending.pop_front();
        }
        self.user_accepted = kind == Kind::User && status.is_ok();
        if status.is_err() {
            return self.on_negative(id, kind, status);
        }
        Ok(Some(match kind {
            Kind::Single | Kind::User => Event::Status { id, line: status },
            Kind::Login => {
                self.phase = Phase::Transaction;
                Event::Status { id, line: status }
            }
            Kind::Auth => {
                self.phase = Phase::Transaction;
                if let Some(mut flow) = self.auth.take() {
                    if flow.cancelled {
                        // `+OK` after `*` breaks R5034-6: logged in by an exchange the
                        // client gave up on.
                        return Err(ClientError::ServerUnverified {
                            id,
                            reason: SaslError::Incomplete,
                        });
                    }
                    if flow.deferred.is_some() {
                        // `+OK` before the initial response was even sent.
                        return Err(ClientError::ServerUnverified {
                            id,
                            reason: SaslError::Incomplete,
                        });
                    }
                    if let Err(reason) = flow.mechanism.finish() {
                        return Err(ClientError::ServerUnverified { id, reason });
                    }
                }
                Event::Status { id, line: status }
            }
            Kind::Utf8 => {
                self.utf8 = true;
                Event::Status { id, line: status }
            }
            Kind::LangSelect => match LanguageListing::parse(status.text().as_bytes()) {
                Ok(language) => Event::Language {
                    id,
                    line: status,
                    language,
                },
                Err(_) => return Ok(Some(malformed(id, status))),
            },
            Kind::Quit => {
                self.phase = Phase::Closed;
                Event::Closed { id, line: status }
            }
            Kind::Stls => {
                self.phase = Phase::TlsHandshake;
                if !self.input.is_empty() {
                    // IMPL-13, TV-8: plaintext after the +OK is never POP3. The
                    // bytes are dropped unparsed and the machine stops; the error
                    // follows this event whatever the split of the input.
                    self.fail(ClientError::DataAfterStls);
                }
                Event::StartTls { id }
            }
            Kind::Stat => match DropListing::parse_with(status.text().as_bytes(), &options) {
                Ok(drop) => Event::Stat {
                    id,
                    line: status,
                    drop,
                },
                Err(_) => return Ok(Some(malformed(id, status))),
            },
            Kind::ScanOne => match ScanListing::parse_with(status.text().as_bytes(), &options) {
                Ok(scan) => Event::ScanOne {
                    id,
                    line: status,
                    scan,
                },
                Err(_) => return Ok(Some(malformed(id, status))),
            },
            Kind::UidOne => match UidListing::parse_with(status.text().as_bytes(), &options) {
                Ok(uid) => Event::UidOne {
                    id,
                    line: status,
                    uid,
                },
                Err(_) => return Ok(Some(malformed(id, status))),
            },
            Kind::Capa | Kind::Listing(_) => {
                let listing = match kind {
                    Kind::Listing(listing) => listing,
                    _ => ListingKind::Capa,
                };
                if listing == ListingKind::Groups && xtnd == Some(XtndKind::OpensGroup) {
                    self.bboard = true;
                }
                self.reading = Reading::Listing {
                    id,
                    listing: Listing::new(listing),
                    lines: 0,
                    bytes: 0,
                    overflowed: false,
                    malformed: false,
                };
                return Ok(None);
            }
            Kind::Body => {
                self.reading = Reading::Body {
                    id,
                    // The machine applies `max_body` itself, from its config (the
                    // one owner of the limit), so that exactly the limit is handed
                    // out whatever the split: the decoder carries no copy.
                    decoder: BodyDecoder::new(self.config.decoder().with_max_body(None)),
                    over_limit: false,
                    skipping: false,
                };
                Event::BodyStart { id, line: status }
            }
        }))
    }

    fn on_negative(
        &mut self,
        id: CommandId,
        kind: Kind,
        line: StatusLine,
    ) -> Result<Option<Event>, ClientError> {
        match kind {
            Kind::Auth => self.auth = None,
            Kind::Quit => {
                self.phase = Phase::Closed;
                return Ok(Some(Event::Closed { id, line }));
            }
            Kind::Stls if self.config.require_tls => {
                return Ok(Some(Event::Failed {
                    id,
                    error: CommandError::StlsRefused { line },
                }));
            }
            // R2449-7: a server without CAPA has no STLS either (R2595-2).
            Kind::Capa if self.config.require_tls && !self.tls => {
                self.queued.push_back(Event::Failed {
                    id,
                    error: CommandError::StlsNotOffered,
                });
            }
            _ => {}
        }
        Ok(Some(Event::Status { id, line }))
    }

    fn on_greeting(&mut self, line: &[u8]) -> Result<Event, ClientError> {
        let options = self.reply_options(false);
        match Greeting::parse_with(line, &options) {
            Ok(greeting) => {
                // R1939-28: the timestamp must be an RFC 822 msg-id; a malformed
                // one is dropped, so APOP is refused (E-7).
                self.timestamp = greeting
                    .timestamp()
                    .and_then(|ts| Timestamp::parse(ts).ok());
                self.phase = Phase::Authorization;
                Ok(Event::Greeting {
                    apop: self.timestamp.is_some(),
                    greeting,
                })
            }
            Err(_) => Err(ClientError::GreetingRefused {
                line: StatusLine::parse_with(line, &options).ok(),
            }),
        }
    }

    fn on_continuation(
        &mut self,
        id: CommandId,
        line: &[u8],
        options: &ReplyOptions,
    ) -> Result<Option<Event>, ClientError> {
        let Some(flow) = self.auth.as_mut().filter(|flow| flow.id == id) else {
            return Err(ClientError::UnexpectedContinuation { id });
        };
        if flow.cancelled {
            return Err(ClientError::UnexpectedContinuation { id });
        }
        // RFC 5034 §4, through the crate's parser: `+ ` and base64 text, or a
        // bare `+` when `ReplyOptions::bare_continuation` allows it (IMPL-12).
        let challenge = match Continuation::parse_with(line, options) {
            Ok(continuation) => sasl::decode_base64(continuation.base64()),
            Err(ParseError::NotContinuation) => {
                return Err(ClientError::BadStatusLine { id: Some(id) })
            }
            // Text outside the base64 alphabet: answered like any undecodable
            // challenge, by cancelling (R5034-10).
            Err(_) => Err(SaslError::InvalidBase64),
        };
        let answer = match challenge {
            Ok(challenge) => match flow.deferred.take() {
                // R5034-8: the initial response follows the empty challenge.
                Some(ir) if challenge.is_empty() => Ok(ir),
                Some(_) => Err(SaslError::MalformedChallenge(
                    "a non-empty challenge where the initial response was due",
                )),
                None => flow.mechanism.respond(&challenge),
            },
            Err(e) => Err(e),
        };
        // The response line, written by the crate's encoder (R5034-6).
        let answer = answer.and_then(|response| {
            let raw = response.expose_secret();
            if raw.is_empty() {
                Ok(AuthResponse::Empty)
            } else {
                Base64Text::new(sasl::encode_base64(raw))
                    .map(AuthResponse::Base64)
                    .map_err(|_| SaslError::InvalidBase64)
            }
        });
        let result = match answer {
            Ok(response) => {
                response.encode(&mut self.output);
                Ok(None)
            }
            Err(reason) => {
                // R5034-6, R5034-10: cancel; the server answers `-ERR`.
                flow.cancelled = true;
                AuthResponse::Cancel.encode(&mut self.output);
                if reason == SaslError::ServerSignatureMismatch {
                    // RFC 5802: a server that cannot prove itself is not the
                    // server; the session must not go on.
                    Err(ClientError::ServerUnverified { id, reason })
                } else {
                    Ok(Some(Event::Failed {
                        id,
                        error: CommandError::Sasl { reason },
                    }))
                }
            }
        };
        // The server's next line answers the line just written.
        if let Some(head) = self.pending.front_mut() {
            head.received_at_send = self.received;
        }
        result
    }
}

fn malformed(id: CommandId, line: StatusLine) -> Event {
    Event::Failed {
        id,
        error: CommandError::MalformedReply { line },
    }
}
