#!/usr/bin/env python3
"""Writes the seed corpora under seeds/<target>/ from SPEC.md §15's test vectors.

Run it from pop3-proto-fuzz/ after changing a target's input layout; the files it
writes are committed. Each seed starts with the header bytes its target reads first.
"""
import os
import shutil

MSG1 = b"From: a@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: one\r\n\r\nHello.\r\nThis is message one, padded to 120 octets!!!!\r\n"
MSG2 = b"From: b@example.com\r\nTo: mrose@dbc.mtview.ca.us\r\nSubject: two\r\n\r\nBody line one.\r\nBody line two.\r\nBody line three.\r\nBody line four is a bit longer than others\r\n.leading dot line\r\n.\r\n..two dots\r\nDone.\r\n"
MSG2_WIRE = MSG2.replace(b"\r\n.", b"\r\n..")

# TV-1 .. TV-8, client side.
CLIENT_LINES = [
    b"APOP mrose c4c9334bac560ecc979e58001b3e22fb", b"STAT", b"LIST", b"RETR 1", b"DELE 1",
    b"RETR 2", b"DELE 2", b"QUIT", b"LIST 2", b"LIST 3", b"UIDL", b"UIDL 2", b"TOP 100 3",
    b"TOP 2 0", b"TOP 2 99", b"USER frated", b"USER mrose", b"PASS secret", b"NOOP", b"RSET",
    b"CAPA", b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", b"AUTH PLAIN", b"dGVzdAB0ZXN0AHRlc3Q=",
    b"AUTH DIGEST-MD5", b"", b"AUTH KERBEROS_V4", b"DiAF5A4gA+oOIALuBkAAmw==", b"AUTH FOOBAR",
    b"*", b"AAA=BBB", b"AUTH PLAIN =", b"AUTH XOAUTH2", b"AQ==", b"STLS", b"UTF8", b"LANG",
    b"LANG de", b"LANG *", b"XTND BBOARDS", b"XTND BBOARDS system", b"XTND ARCHIVE x",
    b"XTND XMIT", b"PASS  two  words ", b"stat", b"RETR 0", b"RETR 4294967296", b"TOP 1 -1",
    b"list 007", b"XLST 1 2",
    b"AUTH OAUTHBEARER bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=",
]

GREETING = b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"
CAPA_BODY = b"TOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\nPIPELINING\r\nEXPIRE 60\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n"

# TV-1 server stream.
TV1_SERVER = (
    GREETING + b"\r\n"
    + b"+OK mrose's maildrop has 2 messages (320 octets)\r\n"
    + b"+OK 2 320\r\n"
    + b"+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"
    + b"+OK 120 octets\r\n" + MSG1 + b".\r\n"
    + b"+OK message 1 deleted\r\n"
    + b"+OK 200 octets\r\n" + MSG2_WIRE + b".\r\n"
    + b"+OK message 2 deleted\r\n"
    + b"+OK dewey POP3 server signing off (maildrop empty)\r\n"
)
TV1_CLIENT = b"".join(l + b"\r\n" for l in [
    b"APOP mrose c4c9334bac560ecc979e58001b3e22fb", b"STAT", b"LIST", b"RETR 1", b"DELE 1",
    b"RETR 2", b"DELE 2", b"QUIT"])

REPLIES = {
    0: [GREETING, b"+OK", b"+OK [IN-USE] hi <a@b>", b"-ERR go away"],
    1: [b"+OK", b"-ERR", b"-ERR [IN-USE] Do you have another POP session running?",
        b"-ERR [SYS/TEMP] try later", b"-ERR [sys/perm/x] broken", b"-ERR [unclosed text",
        b"+ok fine", b"+ OK XTND", b"-ERRno such message", b"+OK [A][B]"],
    2: [b"+OK 2 320", b"+OK 0 0", b"+OK 2 320 (discouraged)", b"+OK 2  320"],
    3: [b"+OK 2 200", b"-ERR no such message, only 2 messages in maildrop", b"+OK 1 120 extra"],
    4: [b"+OK 2 QhdPYR:00WBw1Ph7x7", b"+OK 1   abc  "],
    5: [l for l in CAPA_BODY.split(b"\r\n") if l] + [b"SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS",
        b"IMPLEMENTATION BlurdyBlurp POP3 server", b"STLS", b"UTF8 USER", b"LANG",
        b"EXPIRE NEVER USER", b"LOGIN-DELAY 900 USER", b"AUTH-RESP-CODE", b"X-FOO bar"],
    6: [b"1 120", b"2 200", b"1 120 7"],
    7: [b"1 whqtswO00WBw418f9t5JxYwZ", b"2 QhdPYR:00WBw1Ph7x7"],
    8: [b"en English", b"de Deutsch", b"i-default Default language"],
    9: [b"system 7", b"general 120"],
    10: [b"+ ", b"+", b"+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==", b"+ AmFYig==",
         b"+OK Maildrop locked and ready", b"-ERR Unrecognized authentication type"],
}

DOT_WIRES = [
    b"..\r\n.\r\n", b"...\r\n.\r\n", b"..hidden\r\n.\r\n", b"a.\r\n..b\r\n.\r\n", b"\r\n.\r\n",
    b".\r\n", b".x\r\n.\r\n", b"line\n.\n", MSG1 + b".\r\n+OK next\r\n", MSG2_WIRE + b".\r\n",
    b"a\r\n.\r\r\n.\r\n", b"\r.\r\n\n.\n.\r\n",
]
MESSAGES = [b".\r\n", b"..\r\n", b".hidden\r\n", b"a.\r\n.b\r\n", b"\r\n", b"", MSG1, MSG2,
            b"Subject: x\n\nline\n.dot\nlast", b"a\r\n\r\nb\r\n.c\r\nd", b".a\r\nb"]
URLS = [b"pop://rg@mailsrv.qualcomm.com", b"pop://rg;AUTH=+APOP@mail.eudora.com:8110",
        b"pop://baz;AUTH=SCRAM-MD5@foo.bar", b"pop://foo.bar", b"pop://a%20b;AUTH=*@h",
        b"pop://u:pw@h", b"pops://[::1]:995/", b"POP3S://127.0.0.1", b"pop3://x;auth=+X-EXT@h.example"]


def write(target, name, data):
    d = os.path.join("seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    shutil.rmtree("seeds", ignore_errors=True)
    for i, line in enumerate(CLIENT_LINES):
        write("parse_command", f"tv-{i:02}", line + b"\r\n")
    write("parse_command", "all", b"\r\n".join(CLIENT_LINES))
    for kind, lines in REPLIES.items():
        for opts in (0, 0x1F):
            write("parse_reply", f"kind{kind:02}-opt{opts:02x}", bytes([kind, opts]) + b"\r\n".join(lines))
    # framing: [max_line choice][max_line extra][bare lf][split len][split bytes][input]
    for i, (choice, lf) in enumerate([(0, 0), (1, 1), (5, 0), (3, 1)]):
        write("framing", f"tv1-{i}", bytes([choice, 40, lf, 4, 10, 60, 200, 31]) + TV1_SERVER)
        write("framing", f"client-{i}", bytes([choice, 12, lf, 2, 7, 90]) + TV1_CLIENT + b"bare\nlf\r\n\r\r\n")
    # dot_decode: [mode][limit?][limit][split len][split bytes][wire]
    for i, wire in enumerate(DOT_WIRES):
        for mode in (0, 1, 2):
            write("dot_decode", f"tv9-{i:02}-m{mode}", bytes([mode, i & 1, 40, 3, 5, 9, 77]) + wire)
    # dot_stuff: [lf_to_crlf][top?][top][split len][split bytes][message]
    for i, msg in enumerate(MESSAGES):
        write("dot_stuff", f"msg-{i:02}", bytes([i & 1, (i >> 1) & 1, i % 4, 3, 5, 9, 77]) + msg)
    for i, url in enumerate(URLS):
        write("url", f"tv10-{i}", url)
    # roundtrip: any bytes make values; give it some text-like ones.
    write("roundtrip", "text", b"".join(CLIENT_LINES[:20]))
    write("roundtrip", "reply", TV1_SERVER[:400])


if __name__ == "__main__":
    main()
