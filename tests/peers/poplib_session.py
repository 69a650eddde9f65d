#!/usr/bin/env python3
"""A POP3 session with Python's poplib against a server under test.

Run by tests/tests/peers.rs (feature `peers`). The expected maildrop is given as a
directory: `N.eml` holds message N as it must arrive (CRLF line ends), `uids` holds
one unique-id per line, in message order. The script checks STAT, LIST, UIDL,
RETR, TOP n 0, NOOP, DELE and RSET, and with --commit-delete N deletes message N,
QUITs, and logs in again to see it gone. It prints what differs and the protocol
transcript (poplib.set_debuglevel(2), clipped), and exits non-zero on any mismatch.

Logins: --mode user (USER/PASS), apop (APOP), plain (AUTH PLAIN, which poplib has
no method for: sent with poplib's _shortcmd), stls (STLS, then USER/PASS) and pops
(implicit TLS, then USER/PASS).
"""

import argparse
import base64
import contextlib
import io
import os
import poplib
import ssl
import sys
import traceback

# The test corpus has lines longer than poplib's 2048-octet default.
poplib._MAXLINE = 1 << 20


class Failed(Exception):
    pass


def load_expected(directory):
    with open(os.path.join(directory, "uids"), "rb") as f:
        uids = [line.strip() for line in f.read().split(b"\n") if line.strip()]
    messages = []
    for n in range(1, len(uids) + 1):
        with open(os.path.join(directory, "%d.eml" % n), "rb") as f:
            messages.append(f.read())
    return uids, messages


def joined(lines):
    """poplib's RETR/TOP lines (un-stuffed, line ends stripped) as wire bytes."""
    return b"".join(line + b"\r\n" for line in lines)


def top_of(message, n):
    """The headers, the blank line, then n body lines (R1939-37)."""
    end = message.find(b"\r\n\r\n")
    if end < 0:
        return message
    head, body = message[: end + 4], message[end + 4 :]
    lines = body.split(b"\r\n")[:-1]
    return head + b"".join(line + b"\r\n" for line in lines[:n])


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


class Session:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.context = None
        if args.cafile:
            self.context = ssl.create_default_context(cafile=args.cafile)
        if args.mode == "pops":
            self.pop = poplib.POP3_SSL(
                args.host, args.port, context=self.context, timeout=60
            )
        else:
            self.pop = poplib.POP3(args.host, args.port, timeout=60)
        self.pop.set_debuglevel(2)

    def login(self):
        args, pop = self.args, self.pop
        caps = pop.capa()
        self.log("CAPA before login: %r" % sorted(caps))
        if args.mode == "stls":
            if "STLS" not in caps:
                raise Failed("the server does not list STLS: %r" % caps)
            pop.stls(self.context)
            caps = pop.capa()
            if "STLS" in caps:
                raise Failed("STLS still listed after TLS started (R2595-7)")
        if args.mode == "apop":
            resp = pop.apop(args.user, args.password)
        elif args.mode == "plain":
            if "PLAIN" not in caps.get("SASL", []):
                raise Failed("the server does not list SASL PLAIN: %r" % caps)
            token = base64.b64encode(
                b"\0" + args.user.encode() + b"\0" + args.password.encode()
            ).decode()
            resp = pop._shortcmd("AUTH PLAIN " + token)
        else:
            pop.user(args.user)
            resp = pop.pass_(args.password)
        if not resp.startswith(b"+OK"):
            raise Failed("login refused: %r" % resp)
        caps = pop.capa()
        for tag in ("TOP", "UIDL", "USER"):
            if tag not in caps:
                raise Failed("CAPA after login lacks %s: %r" % (tag, sorted(caps)))


def check(cond, what, failures):
    if not cond:
        failures.append(what)


def run(args, out):
    def log(line):
        print("-- " + line, file=out)

    uids, messages = load_expected(args.expected)
    failures = []
    count = len(messages)
    total = sum(len(m) for m in messages)

    s = Session(args, log)
    pop = s.pop
    greeting = pop.getwelcome()
    check(greeting.startswith(b"+OK"), "greeting %r" % greeting, failures)
    if args.mode == "apop":
        check(b"<" in greeting, "no APOP timestamp in %r" % greeting, failures)
    s.login()

    stat = pop.stat()
    check(stat == (count, total), "STAT %r, expected %r" % (stat, (count, total)), failures)

    resp, listing, _ = pop.list()
    want = [b"%d %d" % (i + 1, len(m)) for i, m in enumerate(messages)]
    check(listing == want, "LIST %r, expected %r" % (listing, want), failures)
    resp = pop.list(2)
    check(resp == b"+OK 2 %d" % len(messages[1]), "LIST 2: %r" % resp, failures)

    resp, listing, _ = pop.uidl()
    want = [b"%d %s" % (i + 1, u) for i, u in enumerate(uids)]
    check(listing == want, "UIDL %r, expected %r" % (listing, want), failures)
    resp = pop.uidl(count)
    check(resp == b"+OK %d %s" % (count, uids[-1]), "UIDL %d: %r" % (count, resp), failures)

    for n, message in enumerate(messages, 1):
        resp, lines, octets = pop.retr(n)
        got = joined(lines)
        if got != message:
            at = first_difference(got, message)
            failures.append(
                "RETR %d differs at octet %d: got %d octets %r, expected %d octets %r"
                % (n, at, len(got), got[max(0, at - 40) : at + 40], len(message),
                   message[max(0, at - 40) : at + 40])
            )
        check(octets == len(message), "RETR %d: poplib counted %d octets, expected %d"
              % (n, octets, len(message)), failures)
        resp, lines, _ = pop.top(n, 0)
        want = top_of(message, 0)
        check(joined(lines) == want, "TOP %d 0: %r, expected %r"
              % (n, joined(lines)[:300], want[:300]), failures)

    resp, lines, _ = pop.top(1, 1)
    check(joined(lines) == top_of(messages[0], 1), "TOP 1 1: %r" % joined(lines), failures)

    check(pop.noop().startswith(b"+OK"), "NOOP", failures)

    # DELE marks, RSET unmarks (R1939-34, R1939-36; E-10: numbers do not shift).
    check(pop.dele(1).startswith(b"+OK"), "DELE 1", failures)
    stat = pop.stat()
    check(stat == (count - 1, total - len(messages[0])), "STAT after DELE 1: %r" % (stat,), failures)
    resp, listing, _ = pop.list()
    check(listing == [b"%d %d" % (i + 1, len(m)) for i, m in enumerate(messages)][1:],
          "LIST after DELE 1: %r" % listing, failures)
    try:
        pop.retr(1)
        failures.append("RETR 1 after DELE 1 did not fail")
    except poplib.error_proto as e:
        log("RETR 1 after DELE 1 refused as expected: %r" % e)
    check(pop.rset().startswith(b"+OK"), "RSET", failures)
    stat = pop.stat()
    check(stat == (count, total), "STAT after RSET: %r" % (stat,), failures)

    if args.commit_delete:
        k = args.commit_delete
        check(pop.dele(k).startswith(b"+OK"), "DELE %d" % k, failures)
        resp = pop.quit()
        check(resp.startswith(b"+OK"), "QUIT: %r" % resp, failures)
        s = Session(args, log)
        s.login()
        stat = s.pop.stat()
        check(stat == (count - 1, total - len(messages[k - 1])),
              "STAT in a new session after DELE %d and QUIT: %r" % (k, stat), failures)
        resp, listing, _ = s.pop.uidl()
        left = [line.split(b" ", 1)[1] for line in listing]
        check(uids[k - 1] not in left, "UIDL still lists the deleted %r" % uids[k - 1], failures)
        check(left == uids[: k - 1] + uids[k:], "UIDL after the deletion: %r" % left, failures)
        pop = s.pop
    resp = pop.quit()
    check(resp.startswith(b"+OK"), "QUIT: %r" % resp, failures)
    return failures


def clip(text, head=80, tail=220, width=200):
    lines = [l if len(l) <= width else l[:width] + "...(%d chars)" % len(l)
             for l in text.splitlines()]
    if len(lines) > head + tail:
        lines = lines[:head] + ["... %d lines left out ..." % (len(lines) - head - tail)] + lines[-tail:]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["user", "apop", "plain", "stls", "pops"], default="user")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default="wonderland")
    parser.add_argument("--cafile")
    parser.add_argument("--expected", required=True)
    parser.add_argument("--commit-delete", type=int, default=0)
    args = parser.parse_args()

    transcript = io.StringIO()
    try:
        with contextlib.redirect_stdout(transcript):
            failures = run(args, transcript)
    except Exception:
        failures = ["exception:\n" + traceback.format_exc()]
    if failures:
        print("poplib (%s): %d mismatches" % (args.mode, len(failures)))
        for f in failures:
            print("MISMATCH: " + f)
        print("--- transcript (poplib debuglevel 2, clipped) ---")
        print(clip(transcript.getvalue()))
        return 1
    print("poplib (%s): every check passed" % args.mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
