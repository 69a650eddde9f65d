#!/usr/bin/env python3
"""Writes the seed corpora under seeds/<target>/ from the test vectors of docs/conformance.md (TV-1 to TV-10).

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
    client_seeds()
    server_seeds()


# ---- client: scripts in the layout fuzz_targets/client.rs reads ----
def u16be(v):
    return bytes([(v >> 8) & 0xFF, v & 0xFF])


MENU = {"USER": 0, "PASS": 1, "STAT": 2, "LIST": 3, "LIST1": 4, "UIDL": 5, "UIDL1": 6, "RETR": 7,
        "TOP": 8, "DELE": 9, "NOOP": 10, "RSET": 11, "QUIT": 12, "CAPA": 13, "STLS": 14, "UTF8": 15,
        "LANG": 16, "LANGde": 17, "BBOARDS": 18, "ARCHIVE": 19, "XMIT": 20}


def client_script(ops, pipelining=True, small=False):
    # config: max_line, max_sasl_line, listing lines, listing bytes (ratio bytes),
    # max_body ratio, bare lf, lf->crlf, require_tls, implicit_tls, pipelining, in-flight
    if small:
        cfg = bytes([3, 0, 60, 0, 3, 2, 3, 100, 3, 0, 50, 0, 0, 1, 1, int(pipelining), 0])
    else:
        cfg = bytes([0, 0, 0, 0, 0, 0, 0, 1, 1, int(pipelining), 0])
    out = cfg + bytes([4, 3, 7, 11, 250])
    for op in ops:
        kind = op[0]
        if kind == "feed":
            data = op[1][:600]
            out += bytes([0]) + u16be(len(data)) + data
        elif kind == "send":
            name = op[1]
            out += bytes([4, 1, MENU[name]])
            if name == "TOP":
                out += bytes([0])
        elif kind == "auth":
            out += bytes([8, 1, op[1]])
        elif kind == "tls":
            out += bytes([9])
    return out


def b64(x):
    import base64
    return base64.b64encode(x)


def client_seeds():
    g = GREETING + b"\r\n"
    tv1 = [("feed", g), ("send", "USER"), ("feed", b"+OK mrose is a real hoopy frood\r\n"),
           ("send", "PASS"), ("feed", b"+OK mrose's maildrop has 2 messages (320 octets)\r\n"),
           ("send", "STAT"), ("feed", b"+OK 2 320\r\n"), ("send", "LIST"),
           ("feed", b"+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"),
           ("send", "RETR"), ("feed", b"+OK 120 octets\r\n" + MSG1 + b".\r\n"),
           ("send", "UIDL"), ("feed", b"+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"),
           ("send", "LIST1"), ("feed", b"+OK 2 200\r\n"), ("send", "UIDL1"), ("feed", b"+OK 2 QhdPYR:00WBw1Ph7x7\r\n"),
           ("send", "TOP"), ("feed", b"+OK\r\nFrom: b@example.com\r\n\r\n.\r\n"),
           ("send", "DELE"), ("feed", b"+OK message 1 deleted\r\n"), ("send", "NOOP"), ("feed", b"+OK\r\n"),
           ("send", "RSET"), ("feed", b"-ERR no\r\n"), ("send", "QUIT"),
           ("feed", b"+OK dewey POP3 server signing off (maildrop empty)\r\n")]
    write("client", "tv1-user-pass", client_script(tv1))
    write("client", "tv1-small-limits", client_script(tv1, small=True))
    pipelined = [("feed", g), ("send", "CAPA"), ("feed", b"+OK Capability list follows\r\n" + CAPA_BODY + b".\r\n"),
                 ("send", "USER"), ("send", "PASS"), ("send", "STAT"), ("send", "RETR"), ("send", "LIST"),
                 ("feed", b"+OK\r\n+OK in\r\n+OK 2 320\r\n+OK 200 octets\r\n" + MSG2_WIRE[:300] + b".\r\n+OK\r\n1 120\r\n.\r\n")]
    write("client", "pipelined", client_script(pipelined, pipelining=False))
    auth_plain = [("feed", g), ("send", "CAPA"),
                  ("feed", b"+OK List of capabilities follows\r\nSASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\nIMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n"),
                  ("auth", 0), ("feed", b"+OK Maildrop locked and ready\r\n"), ("send", "STAT"), ("feed", b"+OK 0 0\r\n")]
    write("client", "auth-plain-ir", client_script(auth_plain))
    for mech, chal in [(1, [b"+ VXNlcm5hbWU6\r\n", b"+ UGFzc3dvcmQ6\r\n"]),
                       (2, [b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"]),
                       (3, [b"+ " + b64(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=16") + b"\r\n",
                            b"+ " + b64(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") + b"\r\n"]),
                       (5, [b"+ \r\n", b"+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n"]),
                       (6, [b"+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n"]), (7, [b"+ \r\n"])]:
        ops = [("feed", g), ("auth", mech)] + [("feed", c) for c in chal] + [("feed", b"+OK done\r\n")]
        write("client", f"auth-{mech}", client_script(ops))
    stls = [("feed", g), ("send", "STLS"), ("feed", b"+OK Begin TLS negotiation\r\n"), ("tls",), ("send", "CAPA"),
            ("feed", b"+OK\r\nUSER\r\n.\r\n"), ("send", "USER"), ("feed", b"+OK\r\n")]
    write("client", "stls", client_script(stls))
    write("client", "stls-injection", client_script([("feed", g), ("send", "STLS"),
                                                     ("feed", b"+OK Begin TLS negotiation\r\n+OK injected\r\n")]))
    misc = [("feed", g), ("send", "USER"), ("feed", b"+OK\r\n"), ("send", "PASS"), ("feed", b"+OK\r\n"),
            ("send", "LANG"), ("feed", b"+OK Language listing follows\r\nen English\r\nde Deutsch\r\n.\r\n"),
            ("send", "LANGde"), ("feed", b"+OK de Deutsch\r\n"), ("send", "BBOARDS"), ("feed", b"+OK\r\nsystem 7\r\n.\r\n"),
            ("send", "XMIT"), ("feed", b"+OK\r\nbody\r\n..x\r\n.\r\n"), ("send", "UTF8"), ("feed", b"-ERR\r\n")]
    write("client", "lang-xtnd", client_script(misc))


# ---- server: scripts in the layout fuzz_targets/server.rs reads ----
def server_script(segments, answers, apop=0, sasl=0, stls=0, ext=0, langs=0, bare=0, lenient=0, lf=0):
    cfg = bytes([0, 0, 0, 0, bare, lenient, lf, 1, 0, apop, sasl, stls, 1, 1, 1, 1, 1, 1, 1,
                 0, 0, 0, 0, ext, 1, 0, langs])
    greeting = b"POP3 ready"
    out = cfg + bytes([1, len(greeting)]) + greeting + bytes([apop])
    out += u16be(len(answers)) + answers + bytes([3, 5, 40, 90])
    for seg in segments:
        seg = seg[:1024]
        out += u16be(len(seg)) + seg
    return out


def server_seeds():
    # Answers: accept a login with two messages (choice 2, n 2, len, bytes, uid, no text),
    # then send messages whole (choice 1), then UPDATE ok (choice 1).
    msg_a = b"Subject: a\r\n\r\n.dot\r\nx"
    msg_b = b"b\n.c\n"
    login = bytes([2, 2, len(msg_a)]) + msg_a + bytes([3]) + b"abc" + bytes([0])
    login += bytes([len(msg_b)]) + msg_b + bytes([2]) + b"zz" + bytes([0]) + bytes([0])
    answers = login + bytes([1, 0, 1, 0, 3, 2, 1, 1, 1, 1, 1])
    cmds = lambda *c: b"".join(x + b"\r\n" for x in c)
    write("server", "tv1-user-pass", server_script(
        [cmds(b"CAPA", b"USER mrose", b"PASS tanstaaf", b"STAT", b"LIST", b"UIDL", b"RETR 1", b"TOP 1 0",
              b"LIST 2", b"UIDL 2", b"DELE 1", b"RETR 1", b"RSET", b"NOOP", b"DELE 2", b"QUIT")], answers))
    write("server", "tv1-apop", server_script(
        [cmds(b"APOP mrose c4c9334bac560ecc979e58001b3e22fb", b"STAT", b"LIST", b"RETR 2", b"QUIT")],
        answers, apop=1, lf=1))
    write("server", "tv4-errors", server_script(
        [cmds(b"PASS x", b"USER frated", b"USER mrose", b"PASS secret", b"USER mrose", b"PASS secret",
              b"LIST 3", b"DELE 9", b"TOP 1 -1", b"RETR 0", b"retr  1", b"QUIT")],
        bytes([0, 0, 0]) + answers))
    write("server", "auth", server_script(
        [cmds(b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", b"AUTH LOGIN", b"dGVzdA==", b"*", b"AUTH PLAIN",
              b"AAA=BBB", b"AUTH CRAM-MD5", b"", b"AUTH FOOBAR", b"AUTH PLAIN =", b"QUIT")],
        bytes([1, 4]) + b"abcd" + bytes([1, 0]) + bytes([0, 0, 0]) + answers, sasl=1))
    write("server", "stls", server_script(
        [cmds(b"CAPA", b"STLS", b"USER injected"), cmds(b"CAPA", b"STLS", b"UTF8", b"LANG", b"LANG de", b"LANG *")],
        bytes([1, 1, 1]), stls=1, langs=1))
    write("server", "xtnd", server_script(
        [cmds(b"USER a", b"PASS b", b"XTND BBOARDS", b"XTND XMIT x", b"XLST 1", b"QUIT")],
        answers[:len(login)] + bytes([1, 1, 5, 0, 1, 12]) + b".a\r\nb\r\n..\r\n", ext=1))
    write("server", "framing", server_script(
        [cmds(b"NOOP", b"STAT") + b"bare\n" + b"x" * 300 + b"\r\nSTAT\r\n", b"QUIT\r"], b"", bare=0, lenient=1))


if __name__ == "__main__":
    main()
