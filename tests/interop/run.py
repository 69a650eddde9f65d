#!/usr/bin/env python3
"""Interoperability checks against six real POP3 servers (issue 14).

    python3 tests/interop/run.py [--record] [--only NAME ...]
    python3 tests/interop/run.py --report tests/interop/observed.json

For each of Dovecot, Cyrus, GNU Mailutils, popa3d, Courier and Solid POP3
(and our `serve` example), on 127.0.0.1 high ports with the same mailbox:

1. fetch vs poplib: Python's poplib retrieves every message, our `fetch`
   example saves them; every saved file must equal poplib's bytes.
2. probes: the scenarios of probes.py run against every server; for each step
   the majority answer of the real servers is computed, and `serve` must give
   it on at least 98 % of the steps that have one.

Prints one line per check and ends with "N passed, N failed"; the exit status
is 1 when a check failed. --record writes every server's answers to
observed.json; --report prints the comparison from such a file alone.
"""

import argparse
import collections
import datetime
import json
import os
import poplib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import probes  # noqa: E402
import servers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
AGREEMENT_TARGET = 98.0
REAL = ["dovecot", "cyrus", "mailutils", "popa3d", "courier", "solid"]

# poplib refuses lines over 2048 octets; message 4 has a 5000-octet line.
poplib._MAXLINE = 1 << 20


class Checks:
    def __init__(self):
        self.results = []
        self.lock = threading.Lock()

    def add(self, name, ok, detail=""):
        with self.lock:
            self.results.append((name, ok, detail))
            line = f"{'PASS' if ok else 'FAIL'} {name}"
            if detail:
                line += f": {detail}"
            print(line, flush=True)

    def summary(self):
        passed = sum(1 for _, ok, _ in self.results if ok)
        failed = len(self.results) - passed
        return passed, failed


def file_name(uid, number):
    """The name fetch gives a message: its unique-id with octets outside
    [A-Za-z0-9._-] percent-encoded, or its number."""
    if uid is None:
        return f"{number}.eml"
    out = []
    for b in uid:
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "._-"):
            out.append(c)
        else:
            out.append(f"%{b:02X}")
    return "".join(out) + ".eml"


def poplib_messages(port):
    """{number: (uid or None, bytes)} as poplib sees them: lines joined with
    CRLF and a final CRLF. The session is dropped, not QUIT, so that no server
    rewrites the mailbox (status headers) before fetch reads it."""
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        p.user(servers.USER)
        p.pass_(servers.PASSWORD)
        count, _ = p.stat()
        uids = {}
        try:
            for entry in p.uidl()[1]:
                n, uid = entry.split(b" ", 1)
                uids[int(n)] = uid.strip()
        except poplib.error_proto:
            uids = {}
        out = {}
        for n in range(1, count + 1):
            lines = p.retr(n)[1]
            out[n] = (uids.get(n), b"\r\n".join(lines) + b"\r\n")
        return out
    finally:
        p.close()


def run_fetch(fetch_bin, url, out, log):
    """Runs the fetch example; (exit status, seconds, last stderr lines)."""
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, POP3_PASSWORD=servers.PASSWORD)
    started = time.monotonic()
    proc = subprocess.run(
        [fetch_bin, "--out", out, "--allow-cleartext", url], env=env, capture_output=True, timeout=120
    )
    took = time.monotonic() - started
    with open(log, "wb") as f:
        f.write(proc.stdout + proc.stderr)
    stderr = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return proc.returncode, took, stderr[-3:]


def compare_saved(expected, out):
    """Problems found comparing fetch's files in `out` with poplib's messages.
    Files are matched by unique-id; a server whose unique-ids change from one
    session to the next (GNU Mailutils) is matched by content instead."""
    saved = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as f:
            saved[name] = f.read()
    problems = []
    names = {n: file_name(uid, n) for n, (uid, _) in expected.items()}
    by_content = not all(name in saved for name in names.values())
    unmatched = dict(saved)
    for n, (uid, body) in sorted(expected.items()):
        if not by_content:
            got = unmatched.pop(names[n])
            if got != body:
                at = next((i for i, (a, b) in enumerate(zip(got, body)) if a != b), min(len(got), len(body)))
                problems.append(f"message {n}: {len(got)} octets saved, poplib {len(body)}, first difference at {at}")
            continue
        match = next((k for k, v in unmatched.items() if v == body), None)
        if match is None:
            problems.append(f"message {n} ({len(body)} octets): no saved file has its bytes")
        else:
            del unmatched[match]
    if unmatched:
        problems.append(f"{len(unmatched)} saved files match no message")
    return problems, by_content


def fetch_vs_poplib(server, fetch_bin, work, checks):
    """fetch with USER/PASS (the login poplib uses) must save poplib's bytes and
    exit 0; fetch with the plain URL (no ;AUTH=) must log in and exit 0 too.

    Each client gets the mailbox as restored (for GNU Mailutils, the mbox its
    first session left, with its X-UIDL headers: see `Mailutils.prime`)."""
    name = server.name
    out = os.path.join(work, f"fetch-{name}")
    url = f"pop://{servers.USER};AUTH=+USER@127.0.0.1:{server.port}"
    status, took, stderr = run_fetch(fetch_bin, url, out, out + ".log")
    server.settle()
    server.restore()
    try:
        expected = poplib_messages(server.port)
    except Exception as e:
        checks.add(f"fetch equals poplib on {name}", False, f"poplib failed: {e!r}")
        return
    problems, by_content = compare_saved(expected, out)
    octets = sum(len(b) for _, b in expected.values())
    checks.add(
        f"fetch equals poplib on {name}",
        not problems,
        "; ".join(problems)
        if problems
        else f"{len(expected)} messages, {octets} octets"
        + (", matched by content (unique-ids differ after a restore)" if by_content else ""),
    )
    checks.add(
        f"fetch exits 0 on {name}",
        status == 0,
        f"exit {status} in {took:.1f}s" + (f"; {' | '.join(stderr)}" if status else ""),
    )
    server.settle()
    server.restore()
    out = os.path.join(work, f"fetch-default-{name}")
    url = f"pop://{servers.USER}@127.0.0.1:{server.port}"
    status, took, stderr = run_fetch(fetch_bin, url, out, out + ".log")
    checks.add(
        f"fetch logs in with pop://user@host (no ;AUTH=) on {name}",
        status == 0,
        f"exit {status} in {took:.1f}s" + (f"; {' | '.join(stderr)}" if status else ""),
    )


def run_lane(lane, fetch_bin, work, checks, observed, do_fetch):
    for server in lane:
        try:
            server.setup(work)
            server.start()
            checks.add(f"{server.name} starts", True, f"127.0.0.1:{server.port}")
        except Exception as e:
            checks.add(f"{server.name} starts", False, f"{e}\n{server.log_tail()}")
            server.stop()
            continue
        try:
            if do_fetch:
                fetch_vs_poplib(server, fetch_bin, work, checks)
                server.settle()
                server.restore()
            started = time.monotonic()
            observed[server.name] = probes.run_all(server, servers.USER, servers.PASSWORD)
            print(f"     probes on {server.name}: {time.monotonic() - started:.1f}s", flush=True)
        except Exception:
            checks.add(f"{server.name} probes ran", False, traceback.format_exc().strip().splitlines()[-1])
        finally:
            server.stop()


def majority(answers):
    """The answer most real servers gave (a plurality: 3 of 6 wins over 2, 1),
    or None when two answers tie for most."""
    counts = collections.Counter(answers).most_common()
    if not counts:
        return None
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None
    return counts[0][0]


def compare(observed, out=print):
    """Prints the steps where serve differs from the majority; returns
    (agreeing, scored, no_majority)."""
    real = [n for n in REAL if n in observed]
    serve = observed.get("serve", {})
    agreeing = scored = 0
    no_majority = []
    differing = []
    for step in probes.step_ids():
        answers = [observed[n].get(step, "missing") for n in real]
        top = majority(answers)
        if top is None:
            no_majority.append(step)
            continue
        scored += 1
        mine = serve.get(step, "missing")
        if mine == top:
            agreeing += 1
        else:
            differing.append((step, mine, top, answers))
    # How often each server, real ones included, gives the majority answer.
    out("")
    out("Agreement with the majority of the real servers (steps that have one):")
    for name in real + (["serve"] if serve else []):
        same = total = 0
        for step in probes.step_ids():
            top = majority([observed[n].get(step, "missing") for n in real])
            if top is None:
                continue
            total += 1
            same += observed[name].get(step, "missing") == top
        out(f"  {name:<10} {same:>4}/{total} = {100.0 * same / total if total else 0:5.1f}%")
    if differing:
        out("")
        out(f"Steps where serve differs from the majority ({len(differing)}):")
        for step, mine, top, answers in differing:
            out(f"  {step}")
            votes = answers.count(top)
            out(f"      serve: {mine}    majority ({votes} of {len(real)}): {top}")
            out("      " + "; ".join(f"{n}: {a}" for n, a in zip(real, answers)))
    if no_majority:
        out("")
        out(f"Steps without a majority, left out of the score ({len(no_majority)}):")
        for step in no_majority:
            answers = [observed[n].get(step, "missing") for n in real]
            out(f"  {step}")
            out("      " + "; ".join(f"{n}: {a}" for n, a in zip(real, answers)) + f"; serve: {serve.get(step, 'missing')}")
    out("")
    return agreeing, scored, no_majority


def agreement_check(observed, checks):
    missing = [n for n in REAL if n not in observed]
    if "serve" not in observed:
        checks.add(f"serve agrees with the majority on >= {AGREEMENT_TARGET:g}% of steps", False, "serve was not probed")
        return
    agreeing, scored, no_majority = compare(observed)
    pct = 100.0 * agreeing / scored if scored else 0.0
    detail = f"{agreeing}/{scored} steps = {pct:.1f}% ({len(no_majority)} without a majority)"
    if missing:
        detail += f"; not probed: {', '.join(missing)}"
    checks.add(
        f"serve agrees with the majority on >= {AGREEMENT_TARGET:g}% of steps",
        pct >= AGREEMENT_TARGET and not missing,
        detail,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", action="store_true", help="write the answers to observed.json")
    ap.add_argument("--report", metavar="JSON", help="only compare the answers saved in JSON")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run these servers only")
    ap.add_argument("--no-fetch", action="store_true", help="skip fetch vs poplib")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--bin-dir", default=os.path.join(REPO, "target/release/examples"))
    args = ap.parse_args()

    checks = Checks()
    if args.report:
        with open(args.report) as f:
            observed = json.load(f)["answers"]
        agreement_check(observed, checks)
        passed, failed = checks.summary()
        print(f"{passed} passed, {failed} failed")
        return 1 if failed else 0

    fetch_bin = os.path.join(args.bin_dir, "fetch")
    serve_bin = os.path.join(args.bin_dir, "serve")
    everything = servers.real_servers() + [servers.Serve(serve_bin)]
    if args.only:
        everything = [s for s in everything if s.name in args.only]
    if not args.no_fetch and not os.path.exists(fetch_bin):
        checks.add("fetch is built", False, f"{fetch_bin} is missing")

    # Servers that share files run one after the other, in one lane.
    lanes = collections.OrderedDict()
    for server in everything:
        reason = server.missing()
        if reason:
            checks.add(f"{server.name} starts", False, f"not installed: {reason}")
            continue
        lanes.setdefault(server.lane or server.name, []).append(server)

    work = tempfile.mkdtemp(prefix="pop3-interop-")
    # Servers drop privileges to the test user or their own: let them in.
    os.chmod(work, 0o755)
    observed = {}
    started = time.monotonic()
    threads = []
    try:
        for lane in lanes.values():
            t = threading.Thread(
                target=run_lane,
                args=(lane, fetch_bin, work, checks, observed, not args.no_fetch and os.path.exists(fetch_bin)),
            )
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
    finally:
        # run_lane stops its servers itself; this catches an interrupt.
        for lane in lanes.values():
            for server in lane:
                server.stop()
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"     servers ran for {time.monotonic() - started:.1f}s", flush=True)

    if args.only is None or "serve" in (args.only or []):
        agreement_check(observed, checks)
    if args.record:
        path = os.path.join(HERE, "observed.json")
        with open(path, "w") as f:
            json.dump(
                {
                    "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "steps": probes.step_ids(),
                    "answers": {n: observed[n] for n in REAL + ["serve"] if n in observed},
                },
                f,
                indent=1,
                sort_keys=False,
            )
            f.write("\n")
        print(f"     answers written to {os.path.relpath(path, REPO)}")

    passed, failed = checks.summary()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
