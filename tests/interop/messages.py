"""The five test messages every server holds, and their mbox form.

Each message is stored with LF line ends (what Maildir and mbox files hold);
the servers send CRLF. Together they exercise the content paths of a client:

1. plain text, small;
2. dot-stuffing: a line that is just ".", lines starting with "." and "..",
   and a line starting with "From " (escaped as ">From " in mbox files);
3. 8-bit bodies: UTF-8 and Latin-1 lines;
4. a 5000-octet line (poplib needs its _MAXLINE raised to read it);
5. about 100 KB whose last line has no line end.
"""


def header(n, subject, extra=b""):
    return (
        b"From: Interop Sender <sender@example.test>\n"
        b"To: popuser@example.test\n"
        b"Subject: " + subject + b"\n"
        b"Date: Thu, 03 Dec 2026 12:00:0" + str(n).encode() + b" +0000\n"
        b"Message-ID: <interop-" + str(n).encode() + b"@example.test>\n" + extra + b"\n"
    )


def filler(tag, count, width=72):
    """`count` numbered lines of printable text, each `width` octets long."""
    out = []
    for i in range(count):
        line = f"{tag} line {i:05d} ".encode()
        line += b"abcdefghijklmnopqrstuvwxyz0123456789" * 3
        out.append(line[:width] + b"\n")
    return b"".join(out)


PLAIN = header(1, b"plain text") + b"Hello,\n\nThis is a plain text message.\n\n" + filler(
    "plain", 20
)

DOTS = (
    header(2, b"dots and From lines")
    + b"The next line is a single dot.\n"
    + b".\n"
    + b".A line starting with one dot.\n"
    + b"..A line starting with two dots.\n"
    + b"...three\n"
    + b". dot space\n"
    + b"From the start of a line: mbox files escape this one.\n"
    + b">From already quoted.\n"
    + filler("dots", 30)
    + b".\n"
    + b"Last line after a dot line.\n"
)

EIGHT_BIT = (
    header(3, b"8-bit body", b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           b"Content-Transfer-Encoding: 8bit\n")
    + "UTF-8: Grüße aus Köln, naïve café, Ελληνικά, 日本語, emoji 🙂\n".encode("utf-8")
    + "Latin-1: Gr\u00fc\u00dfe, d\u00e9j\u00e0 vu, \u00bfqu\u00e9?\n".encode("latin-1")
    + b"Control-free high bytes: \xa0\xff\xfe\x80\x81\n"
    + filler("eight", 140)
)

LONG_LINE = (
    header(4, b"a 5000-octet line")
    + b"The next line is 5000 octets long, not counting its line end.\n"
    + (b"0123456789" * 500)
    + b"\n"
    + filler("long", 200)
)

NO_FINAL_EOL = (
    header(5, b"100 KB, last line without a line end")
    + filler("big", 1380)
    + b"This last line has no line end."
)

MESSAGES = [PLAIN, DOTS, EIGHT_BIT, LONG_LINE, NO_FINAL_EOL]


def crlf(body):
    """The message with CRLF line ends (for IMAP APPEND)."""
    return body.replace(b"\n", b"\r\n")


def mbox():
    """An mbox (mboxo): a From_ line before each message, body lines that start
    with "From " quoted as ">From ", a blank line after each message."""
    out = []
    for i, body in enumerate(MESSAGES, 1):
        out.append(b"From sender@example.test Thu Dec  3 12:00:0%d 2026\n" % i)
        lines = body.split(b"\n")
        for j, line in enumerate(lines):
            if line.startswith(b"From "):
                line = b">" + line
            out.append(line)
            if j < len(lines) - 1:
                out.append(b"\n")
        if not body.endswith(b"\n"):
            # mbox cannot store a missing last line end.
            out.append(b"\n")
        out.append(b"\n")
    return b"".join(out)


if __name__ == "__main__":
    for i, m in enumerate(MESSAGES, 1):
        print(i, len(m))
