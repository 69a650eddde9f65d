"""Raw scripted POP3 exchanges and the prober that runs them.

A scenario is one or more sessions (connections); a session is a list of
steps, (label, octets) or (label, octets, seconds to wait); a step sends its
octets and records the kind of every reply it gets, never the text:

    "+OK"             a positive single-line reply
    "-ERR"            a negative reply
    "+OK multi-line"  a positive reply read to its "." terminator line
    "other"           a line starting with neither
    "close"           the server closed the connection
    "none"            no reply within the wait

A step that sends several lines (pipelining) expects one reply per LF sent;
its answer lists the kinds in order, e.g. "+OK +OK -ERR". A reply the step
did not ask for (a server that splits a line at a bare CR) is listed too,
and so is a close that follows the replies ("-ERR close").

In the step data, {U} and {P} stand for the test user and password.
"""

import re
import socket
import time

DROP = "drop"  # closes the connection without QUIT

# Seconds to wait for a reply. Servers answer at once, except after a failed
# login, which some delay (Cyrus by a few seconds): those scenarios, and every
# PASS, wait longer. Waiting costs nothing when the reply comes.
DEFAULT_WAIT = 3.0
FAILED_LOGIN_WAIT = 10.0

LOGIN = [("USER", b"USER {U}\r\n"), ("PASS", b"PASS {P}\r\n", FAILED_LOGIN_WAIT)]
QUIT = [("QUIT", b"QUIT\r\n")]


def line_of(total, prefix=b"USER "):
    """A command line of exactly `total` octets, CRLF included."""
    return prefix + b"a" * (total - len(prefix) - 2) + b"\r\n"


def scenario(name, *sessions, destructive=False, wait=None):
    return {"name": name, "sessions": list(sessions), "destructive": destructive, "wait": wait}


SCENARIOS = [
    # Unknown commands and commands in the wrong state.
    scenario("unknown command before login", [("FOO", b"FOO\r\n"), ("XYZZY 1 2", b"XYZZY 1 2\r\n")] + QUIT),
    scenario("unknown command after login", LOGIN + [("FOO", b"FOO\r\n"), ("XTND XMIT", b"XTND XMIT\r\n")] + QUIT),
    scenario(
        "transaction commands before login",
        [
            ("RETR 1", b"RETR 1\r\n"),
            ("STAT", b"STAT\r\n"),
            ("LIST", b"LIST\r\n"),
            ("DELE 1", b"DELE 1\r\n"),
            ("NOOP", b"NOOP\r\n"),
        ]
        + QUIT,
    ),
    scenario("PASS before USER", [("PASS", b"PASS {P}\r\n")] + QUIT, wait=FAILED_LOGIN_WAIT),
    scenario(
        "USER, second PASS and APOP after login",
        LOGIN
        + [
            ("USER again", b"USER {U}\r\n"),
            ("PASS again", b"PASS {P}\r\n"),
            ("APOP", b"APOP {U} 0123456789abcdef0123456789abcdef\r\n"),
            ("STAT still works", b"STAT\r\n"),
        ]
        + QUIT,
    ),
    scenario("USER twice before PASS", [("USER other", b"USER nosuchuser\r\n"), ("USER", b"USER {U}\r\n"), ("PASS", b"PASS {P}\r\n"), ("STAT", b"STAT\r\n")] + QUIT, wait=FAILED_LOGIN_WAIT),
    scenario("wrong password", [("USER", b"USER {U}\r\n"), ("PASS wrong", b"PASS not-the-password\r\n")] + QUIT, wait=FAILED_LOGIN_WAIT),
    # Message numbers.
    scenario(
        "bad message numbers",
        LOGIN
        + [
            ("RETR 0", b"RETR 0\r\n"),
            ("RETR 6 (past the end)", b"RETR 6\r\n"),
            ("RETR abc", b"RETR abc\r\n"),
            ("RETR +1", b"RETR +1\r\n"),
            ("RETR -1", b"RETR -1\r\n"),
            ("RETR 01", b"RETR 01\r\n"),
            ("RETR 0001", b"RETR 0001\r\n"),
            ("RETR 2^64+1", b"RETR 18446744073709551617\r\n"),
            ("RETR 2^32+1", b"RETR 4294967297\r\n"),
            ("RETR 1x", b"RETR 1x\r\n"),
            ("LIST 0", b"LIST 0\r\n"),
            ("LIST 6", b"LIST 6\r\n"),
            ("LIST 01", b"LIST 01\r\n"),
            ("LIST -1", b"LIST -1\r\n"),
            ("UIDL 0", b"UIDL 0\r\n"),
            ("UIDL 6", b"UIDL 6\r\n"),
            ("UIDL x", b"UIDL x\r\n"),
            ("DELE 0", b"DELE 0\r\n"),
            ("DELE 6", b"DELE 6\r\n"),
            ("DELE x", b"DELE x\r\n"),
        ]
        + QUIT,
    ),
    # Missing and extra arguments.
    scenario(
        "missing and extra arguments",
        LOGIN
        + [
            ("RETR (no argument)", b"RETR\r\n"),
            ("DELE (no argument)", b"DELE\r\n"),
            ("TOP (no argument)", b"TOP\r\n"),
            ("TOP 1 (no line count)", b"TOP 1\r\n"),
            ("RETR 1 2", b"RETR 1 2\r\n"),
            ("LIST 1 2", b"LIST 1 2\r\n"),
            ("UIDL 1 2", b"UIDL 1 2\r\n"),
            ("STAT x", b"STAT x\r\n"),
            ("NOOP x", b"NOOP x\r\n"),
            ("RSET x", b"RSET x\r\n"),
            ("LIST with two spaces", b"LIST  1\r\n"),
            ("LIST 1 trailing space", b"LIST 1 \r\n"),
        ]
        + QUIT,
    ),
    scenario("USER without a name", [("USER", b"USER\r\n"), ("USER with a space only", b"USER \r\n")] + QUIT),
    scenario("USER with two names", [("USER a b", b"USER {U} extra\r\n"), ("PASS", b"PASS {P}\r\n")] + QUIT, wait=FAILED_LOGIN_WAIT),
    scenario("PASS without a password", [("USER", b"USER {U}\r\n"), ("PASS", b"PASS\r\n")] + QUIT, wait=FAILED_LOGIN_WAIT),
    scenario(
        "TOP with bad arguments",
        LOGIN
        + [
            ("TOP 1 0", b"TOP 1 0\r\n"),
            ("TOP 1 -1", b"TOP 1 -1\r\n"),
            ("TOP 1 x", b"TOP 1 x\r\n"),
            ("TOP 1 huge", b"TOP 1 99999999999999999999\r\n"),
            ("TOP x 1", b"TOP x 1\r\n"),
            ("TOP 0 1", b"TOP 0 1\r\n"),
            ("TOP 6 0", b"TOP 6 0\r\n"),
            ("TOP 1 1 1", b"TOP 1 1 1\r\n"),
        ]
        + QUIT,
    ),
    # Long lines, before login (USER takes any name) and after.
    *[
        scenario(f"{n}-octet USER line", [(f"USER line of {n} octets", line_of(n))] + QUIT)
        for n in (254, 255, 256, 512, 1000, 10000)
    ],
    scenario(
        "long lines after login",
        LOGIN
        + [
            ("NOOP padded to 255 octets", line_of(255, b"NOOP ")),
            ("LIST 1 padded to 256 octets", b"LIST " + b"0" * 248 + b"1\r\n"),
            ("NOOP padded to 1000 octets", line_of(1000, b"NOOP ")),
            ("STAT after long lines", b"STAT\r\n"),
        ]
        + QUIT,
    ),
    # Line ends.
    scenario(
        "bare LF line ends",
        [
            ("USER with LF", b"USER {U}\n"),
            ("PASS with LF", b"PASS {P}\n"),
            ("STAT with LF", b"STAT\n"),
            ("LIST with LF", b"LIST\n"),
            ("RETR 2 with LF", b"RETR 2\n"),
            ("QUIT with LF", b"QUIT\n"),
        ],
    ),
    scenario(
        "pipelined commands, mixed line ends",
        [("USER+PASS+STAT in one write", b"USER {U}\r\nPASS {P}\nSTAT\r\n")]
        + [("LIST 1, UIDL 1, NOOP, RETR 1 in one write", b"LIST 1\r\nUIDL 1\nNOOP\r\nRETR 1\n")]
        + [("STAT, bad command, STAT in one write", b"STAT\r\nFOO\r\nSTAT\n")]
        + QUIT,
        # A server that does not end lines at a bare LF fails this login.
        wait=FAILED_LOGIN_WAIT,
    ),
    scenario("pipelined QUIT then more", LOGIN + [("QUIT then NOOP in one write", b"QUIT\r\nNOOP\r\n")]),
    # Odd octets inside a line.
    scenario(
        "NUL and bare CR inside lines",
        LOGIN
        + [
            ("NUL inside NOOP", b"NO\x00OP\r\n"),
            ("NUL after STAT", b"STAT\x00\r\n"),
            ("NUL inside an argument", b"LIST 1\x002\r\n"),
            ("bare CR inside NOOP", b"NO\rOP\r\n"),
            ("bare CR between commands", b"STAT\rNOOP\r\n"),
            ("STAT afterwards", b"STAT\r\n"),
        ]
        + QUIT,
    ),
    scenario("NUL inside the user name", [("USER pop\\0user", b"USER pop\x00user\r\n")] + QUIT),
    scenario(
        "empty lines",
        [("empty line before login", b"\r\n"), ("blank line before login", b"   \r\n")]
        + LOGIN
        + [("empty line after login", b"\r\n"), ("STAT", b"STAT\r\n")]
        + QUIT,
    ),
    scenario(
        "partial line then its end",
        LOGIN + [("NOOP without line end", b"NOOP"), ("the line end", b"\r\n")] + QUIT,
        wait=1.5,
    ),
    # Case.
    scenario(
        "lowercase and mixed-case commands",
        [("user", b"user {U}\r\n"), ("pass", b"pass {P}\r\n")]
        + [
            ("stat", b"stat\r\n"),
            ("list", b"list\r\n"),
            ("uidl 1", b"uidl 1\r\n"),
            ("StAt", b"StAt\r\n"),
            ("noop", b"noop\r\n"),
            ("top 1 0", b"top 1 0\r\n"),
            ("quit", b"quit\r\n"),
        ],
    ),
    # Other commands.
    scenario("CAPA before login", [("CAPA", b"CAPA\r\n")] + QUIT),
    scenario("CAPA, LAST and NOOP after login", LOGIN + [("CAPA", b"CAPA\r\n"), ("LAST", b"LAST\r\n"), ("NOOP", b"NOOP\r\n")] + QUIT),
    scenario("QUIT before login", QUIT),
    scenario("QUIT with an argument", LOGIN + [("QUIT now", b"QUIT now\r\n")]),
    # Deletion.
    scenario(
        "DELE then QUIT removes the message",
        LOGIN
        + [
            ("DELE 1", b"DELE 1\r\n"),
            ("LIST 1 of a deleted message", b"LIST 1\r\n"),
            ("UIDL 1 of a deleted message", b"UIDL 1\r\n"),
            ("RETR 1 of a deleted message", b"RETR 1\r\n"),
            ("TOP 1 0 of a deleted message", b"TOP 1 0\r\n"),
            ("DELE 1 again", b"DELE 1\r\n"),
            ("STAT after DELE", b"STAT\r\n"),
            ("LIST after DELE", b"LIST\r\n"),
            ("UIDL after DELE", b"UIDL\r\n"),
        ]
        + QUIT,
        LOGIN + [("RETR 5 after the commit (gone)", b"RETR 5\r\n"), ("LIST 4", b"LIST 4\r\n")] + QUIT,
        destructive=True,
    ),
    scenario(
        "DELE then a dropped connection keeps the message",
        LOGIN + [("DELE 1", b"DELE 1\r\n"), ("DELE 2", b"DELE 2\r\n"), (DROP, None)],
        LOGIN + [("RETR 5 after the drop (still there)", b"RETR 5\r\n"), ("LIST 1", b"LIST 1\r\n")] + QUIT,
        destructive=True,
    ),
    scenario(
        "RSET undoes DELE",
        LOGIN
        + [
            ("DELE 1", b"DELE 1\r\n"),
            ("DELE 2", b"DELE 2\r\n"),
            ("RSET", b"RSET\r\n"),
            ("LIST 1 after RSET", b"LIST 1\r\n"),
            ("RETR 2 after RSET", b"RETR 2\r\n"),
        ]
        + QUIT,
        LOGIN + [("RETR 5 after RSET and QUIT", b"RETR 5\r\n")] + QUIT,
        destructive=True,
    ),
]


def fill(data, user, password):
    return data.replace(b"{U}", user.encode()).replace(b"{P}", password.encode())


def step_id(scn, session_index, step_index, label):
    return f"{scn['name']} | s{session_index + 1}.{step_index + 1} {label}"


def step_ids():
    """Every scored step, in order (drops are not steps)."""
    out = []
    for scn in SCENARIOS:
        for i, session in enumerate(scn["sessions"]):
            for j, (label, *_) in enumerate(session):
                if label != DROP:
                    out.append(step_id(scn, i, j, label))
    return out


class Conn:
    """One client connection that reads replies line by line with timeouts."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.eof = False
        self.greeting = self.readline(timeout)

    def close(self):
        self.eof = True
        self.buf = b""
        try:
            self.sock.close()
        except OSError:
            pass

    def readline(self, timeout):
        """A line with its line end; b"" at end of stream; None after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[: nl + 1], self.buf[nl + 1 :]
                return line
            if self.eof:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line
                return b""
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data

    def unread(self, line):
        self.buf = line + self.buf

    def read_body(self, timeout):
        """Reads a multi-line body to its terminator; False when it was cut."""
        while True:
            line = self.readline(timeout)
            if not line:
                return False
            if line in (b".\r\n", b".\n"):
                return True

    def exchange(self, data, wait):
        """Sends `data`, returns the list of reply kinds it got."""
        commands = [c.rstrip(b"\r") for c in data.split(b"\n")[:-1]]
        kinds = []
        try:
            self.sock.sendall(data)
        except OSError:
            return ["close"]
        expected = len(commands)
        if expected == 0:
            line = self.readline(wait)
            if line is None:
                return ["none"]
            if line == b"":
                return ["close"]
            self.unread(line)
        for i in range(expected):
            line = self.readline(wait)
            if line is None:
                kinds.append("none")
                return kinds
            if line == b"":
                kinds.append("close")
                return kinds
            kind = classify(line)
            if kind == "+OK" and self.is_multi_line(commands[i]):
                kind = "+OK multi-line" if self.read_body(wait) else "+OK multi-line (cut)"
            kinds.append(kind)
        # Replies nobody asked for, or a close, shortly after (a server ends
        # the session after QUIT: give it longer).
        quitting = any(c.split(b" ")[0].upper() == b"QUIT" for c in commands)
        while True:
            line = self.readline(2.0 if quitting else 0.15)
            if line is None:
                break
            if line == b"":
                kinds.append("close")
                break
            kinds.append(classify(line))
        return kinds or ["none"]

    def is_multi_line(self, command):
        words = [w for w in command.split(b" ") if w]
        verb = words[0].upper() if words else b""
        if verb in (b"RETR", b"TOP", b"CAPA"):
            return True
        if verb in (b"LIST", b"UIDL"):
            if len(words) == 1:
                return True
            # With an argument the reply is a single line, unless the server
            # ignored the argument: look at what follows.
            following = self.readline(0.3)
            if following is None or following == b"":
                if following == b"":
                    self.eof = True
                return False
            self.unread(following)
            return not re.match(rb"^(\+OK|-ERR)", following)
        return False


def classify(line):
    if line.startswith(b"+OK"):
        return "+OK"
    if line.startswith(b"-ERR"):
        return "-ERR"
    return "other"


def run_all(server, user, password, log=None):
    """Runs every scenario against a started server; {step id: answer}."""
    results = {}
    for scn in SCENARIOS:
        wait = scn["wait"] or DEFAULT_WAIT
        for i, session in enumerate(scn["sessions"]):
            try:
                conn = Conn(server.port)
            except OSError as e:
                for j, (label, *_) in enumerate(session):
                    if label != DROP:
                        results[step_id(scn, i, j, label)] = f"connect failed: {e}"
                continue
            try:
                for j, (label, data, *step_wait) in enumerate(session):
                    if label == DROP:
                        conn.close()
                        # Let the server notice and release its lock.
                        time.sleep(0.5)
                        continue
                    kinds = conn.exchange(fill(data, user, password), max([wait] + step_wait))
                    results[step_id(scn, i, j, label)] = " ".join(kinds)
                # Wait for the server to end the session (QUIT commits).
                deadline = time.monotonic() + 2.0
                while not conn.eof and time.monotonic() < deadline:
                    if conn.readline(0.2) == b"":
                        break
            finally:
                conn.close()
        if scn["destructive"]:
            time.sleep(0.3)
            server.restore()
    return results
