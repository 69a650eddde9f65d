"""Six real POP3 servers (and our `serve` example), each run privately on a
127.0.0.1 high port with the same five test messages for one user.

Every class has the same life cycle:

    server.missing()   -> a reason string when the software is not installed
    server.setup(root) -> private config and mailbox under `root`
    server.start()     -> starts the processes; `server.port` is then set
    server.restore()   -> puts the five original messages back (no session open)
    server.stop()      -> stops every process it started, by PID

All processes are started in their own process group (start_new_session), so
that stopping one also stops the children it forked (per-connection servers).

Four of the servers (Cyrus pop3d, Courier pop3d, popa3d, Solid POP3) declare
`Conflicts: pop3-server` in Debian and cannot be installed next to Dovecot.
`.ci/interop` unpacks their packages with `dpkg-deb -x` under EXTRACTED
(their libraries are installed normally) and they run from there.
"""

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

import messages

# Where .ci/interop unpacks the conflicting server packages.
EXTRACTED = os.environ.get("POP3_INTEROP_EXTRACTED", "/opt/pop3-interop/root")

# The test account. Servers that authenticate system users see it as a Unix
# user created by `ensure_system_user`; the others get it in their own files.
USER = "popuser"
PASSWORD = "Interop-pw1"


def free_port():
    """A free TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=15.0, what="server"):
    """Waits until something accepts on 127.0.0.1:port and sends a greeting."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(5)
                greeting = s.recv(512)
                if greeting.startswith(b"+OK"):
                    s.sendall(b"QUIT\r\n")
                    try:
                        s.recv(512)
                    except OSError:
                        pass
                    return
                last = greeting
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"{what} not answering on 127.0.0.1:{port}: {last!r}")


def group_alive(pgid):
    """Whether a process (not a zombie) of process group `pgid` still exists."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def ensure_system_user():
    """Creates the Unix test user with the known password (idempotent)."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/usr/sbin/nologin", USER], check=True)
    subprocess.run(["chpasswd"], input=f"{USER}:{PASSWORD}\n".encode(), check=True)
    entry = pwd.getpwnam(USER)
    os.makedirs(entry.pw_dir, exist_ok=True)
    os.chown(entry.pw_dir, entry.pw_uid, entry.pw_gid)
    return entry


def ensure_system_account(name, group, home):
    """A system account some servers drop privileges to (what their postinst makes)."""
    try:
        grp.getgrnam(group)
    except KeyError:
        subprocess.run(["addgroup", "--system", group], check=True, capture_output=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["adduser", "--system", "--home", home, "--no-create-home", "--ingroup", group, name],
            check=True,
            capture_output=True,
        )
    os.makedirs(home, exist_ok=True)


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(base, name), uid, gid)


def write_maildir(path, uid, gid):
    """A fresh Maildir holding the test messages in new/ (one file each, LF line ends)."""
    if os.path.exists(path):
        shutil.rmtree(path)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(path, sub))
    for i, body in enumerate(messages.MESSAGES, 1):
        # Names sort in message order; everything before ':' is the unique part.
        name = f"17000000{i:02d}.M{i}P1.interop"
        with open(os.path.join(path, "new", name), "wb") as f:
            f.write(body)
    chown_tree(path, uid, gid)


def write_mbox(path, uid, gid, mode=0o600):
    with open(path, "wb") as f:
        f.write(messages.mbox())
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def children_of(pid):
    """The process ids whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The fields after the command name, which is in parentheses.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and fields[1] == str(pid).encode():
            found.append(int(entry))
    return found


class Server:
    name = "?"
    # Servers sharing a `lane` run one after the other; lanes run in parallel.
    lane = None

    def __init__(self):
        self.port = None
        self.procs = []
        self.root = None
        self.logs = []

    def missing(self):
        return None

    def setup(self, root):
        self.root = os.path.join(root, self.name)
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)

    def settle(self):
        """Waits until the sessions that ended have finished with the mailbox."""
        time.sleep(0.2)

    def spawn(self, argv, log_name, env=None, cwd=None):
        """Starts a process in its own process group, output to a log file."""
        log_path = os.path.join(self.root, log_name)
        log = open(log_path, "ab")
        self.logs.append(log_path)
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def stop(self):
        """Stops every process started here: SIGTERM to its group, then SIGKILL."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # The group may hold forked children after the leader exited.
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait(5)
        deadline = time.monotonic() + 5
        while any(group_alive(p.pid) for p in self.procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.procs = []

    def log_tail(self, lines=20):
        out = []
        for path in self.logs:
            try:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace").splitlines()
                out.append(f"--- {os.path.basename(path)}")
                out.extend(text[-lines:])
            except OSError:
                pass
        return "\n".join(out)


class Dovecot(Server):
    name = "dovecot"

    def missing(self):
        if not os.path.exists("/usr/sbin/dovecot"):
            return "dovecot-core is not installed"
        if not os.path.exists("/usr/lib/dovecot/pop3"):
            return "dovecot-pop3d is not installed"
        return None

    def setup(self, root):
        super().setup(root)
        user = ensure_system_user()
        self.uid, self.gid = user.pw_uid, user.pw_gid
        self.port = free_port()
        r = self.root
        self.home = os.path.join(r, "home")
        os.makedirs(self.home, exist_ok=True)
        os.chown(self.home, self.uid, self.gid)
        passwd = os.path.join(r, "passwd")
        with open(passwd, "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{self.home}::\n")
        os.chown(passwd, 0, grp.getgrnam("dovecot").gr_gid)
        os.chmod(passwd, 0o640)
        self.config = os.path.join(r, "dovecot.conf")
        with open(self.config, "w") as f:
            f.write(
                f"""# Private instance for the interop harness.
base_dir = {r}/run
state_dir = {r}/state
instance_name = pop3-interop-{os.getpid()}
protocols = pop3
listen = 127.0.0.1
log_path = {r}/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{self.home}/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
# Failed logins earn the client's IP a growing delay on the next logins
# (anvil's auth penalty): the probes make failed logins on purpose.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""
            )
        self.logs.append(os.path.join(r, "dovecot.log"))
        self.restore()

    def restore(self):
        write_maildir(os.path.join(self.home, "Maildir"), self.uid, self.gid)

    def start(self):
        proc = self.spawn(["/usr/sbin/dovecot", "-F", "-c", self.config], "stdout.log")
        wait_port(self.port, proc, what=self.name)


class Cyrus(Server):
    """Cyrus IMAP's master with pop3d, imapd (to create and fill the mailbox by
    APPEND) and lmtpd on a private socket; users in a private sasldb."""

    name = "cyrus"
    POP3D = os.path.join(EXTRACTED, "cyrus-pop3d/usr/lib/cyrus/bin/pop3d")

    def missing(self):
        if not os.path.exists("/usr/lib/cyrus/bin/master"):
            return "cyrus-common (cyrus-imapd) is not installed"
        if not os.path.exists(self.POP3D):
            return f"cyrus pop3d not unpacked at {self.POP3D}"
        if not shutil.which("saslpasswd2"):
            return "sasl2-bin is not installed"
        return None

    def setup(self, root):
        super().setup(root)
        r = self.root
        self.port = free_port()
        self.imap_port = free_port()
        cyrus = pwd.getpwnam("cyrus")
        for sub in ("conf", "conf/socket", "conf/proc", "conf/db", "conf/log", "spool", "run"):
            os.makedirs(os.path.join(r, sub), exist_ok=True)
        self.imapd_conf = os.path.join(r, "imapd.conf")
        with open(self.imapd_conf, "w") as f:
            f.write(
                f"""configdirectory: {r}/conf
defaultpartition: default
partition-default: {r}/spool
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {r}/sasldb2
sasl_mech_list: PLAIN LOGIN
popminpoll: 0
unixhierarchysep: no
altnamespace: no
lmtpsocket: {r}/conf/socket/lmtp
idlesocket: {r}/conf/socket/idle
notifysocket: {r}/conf/socket/notify
mboxname_lockpath: {r}/conf/lock
proc_path: {r}/conf/proc
statuscache: no
"""
            )
        # The master passes no -C to what it starts: each command names the config.
        self.cyrus_conf = os.path.join(r, "cyrus.conf")
        with open(self.cyrus_conf, "w") as f:
            f.write(
                f"""START {{
  recover cmd="/usr/lib/cyrus/bin/ctl_cyrusdb -C {self.imapd_conf} -r"
}}
SERVICES {{
  pop3 cmd="{self.POP3D} -C {self.imapd_conf}" listen="127.0.0.1:{self.port}" prefork=0
  imap cmd="/usr/lib/cyrus/bin/imapd -C {self.imapd_conf}" listen="127.0.0.1:{self.imap_port}" prefork=0
}}
EVENTS {{
}}
DAEMON {{
}}
"""
            )
        sasldb = os.path.join(r, "sasldb2")
        for name in (USER, "cyrus"):
            subprocess.run(
                ["saslpasswd2", "-p", "-c", "-f", sasldb, name],
                input=PASSWORD.encode(),
                check=True,
            )
        chown_tree(r, cyrus.pw_uid, cyrus.pw_gid)
        os.chmod(sasldb, 0o640)

    def start(self):
        proc = self.spawn(
            [
                "/usr/lib/cyrus/bin/master",
                "-C", self.imapd_conf,
                "-M", self.cyrus_conf,
                "-p", os.path.join(self.root, "run/master.pid"),
                "-D",
            ],
            "master.log",
        )
        wait_port(self.port, proc, what=self.name)
        self.imap(admin=True, create=True)
        self.restore()

    def imap(self, admin=False, create=False):
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.imap_port)
        try:
            conn.login("cyrus" if admin else USER, PASSWORD)
            if create:
                typ, data = conn.create(f"user.{USER}")
                if typ != "OK" and b"exists" not in b" ".join(data).lower():
                    raise RuntimeError(f"cyrus: CREATE user.{USER}: {typ} {data}")
        finally:
            try:
                conn.logout()
            except Exception:
                pass

    def restore(self):
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.imap_port)
        try:
            conn.login(USER, PASSWORD)
            typ, data = conn.select("INBOX")
            if typ != "OK":
                raise RuntimeError(f"cyrus: SELECT INBOX: {data}")
            if int(data[0]) > 0:
                conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                conn.expunge()
            for body in messages.MESSAGES:
                typ, data = conn.append("INBOX", None, None, messages.crlf(body))
                if typ != "OK":
                    raise RuntimeError(f"cyrus: APPEND: {data}")
        finally:
            try:
                conn.logout()
            except Exception:
                pass


class Mailutils(Server):
    """GNU Mailutils pop3d as its own daemon (--daemon --foreground), an mbox."""

    name = "mailutils"

    def missing(self):
        if not shutil.which("pop3d") and not os.path.exists("/usr/sbin/pop3d"):
            return "mailutils-pop3d is not installed"
        return None

    def setup(self, root):
        super().setup(root)
        user = ensure_system_user()
        self.uid, self.gid = user.pw_uid, user.pw_gid
        self.port = free_port()
        self.spool = os.path.join(self.root, "mail")
        os.makedirs(self.spool, exist_ok=True)
        os.chown(self.spool, self.uid, self.gid)
        self.config = os.path.join(self.root, "pop3d.conf")
        with open(self.config, "w") as f:
            f.write(
                f"""# Private instance for the interop harness.
logging {{ syslog false; }};
mailbox {{ mailbox-pattern "mbox:{self.spool}/${{user}}"; }};
tls-mode false;
foreground true;
server 127.0.0.1:{self.port} {{ tls-mode false; }};
"""
            )
        self.restore()

    def restore(self):
        path = os.path.join(self.spool, USER)
        snapshot = getattr(self, "snapshot", None)
        if snapshot is None:
            write_mbox(path, self.uid, self.gid)
            return
        with open(path, "wb") as f:
            f.write(snapshot)
        os.chown(path, self.uid, self.gid)
        os.chmod(path, 0o600)

    def prime(self):
        """Mailutils adds X-IMAPbase and X-UIDL headers to a fresh mbox in the
        first session, with a UID validity taken from the clock, and sends them:
        two sessions on a fresh mbox in different seconds get different bytes.
        One session here (UIDL, QUIT) lets it write them; the mbox it leaves is
        what every later restore writes, so every client reads the same bytes."""
        import poplib

        self.snapshot = None
        p = poplib.POP3("127.0.0.1", self.port, timeout=10)
        try:
            p.user(USER)
            p.pass_(PASSWORD)
            p.uidl()
            p.quit()
        finally:
            p.close()
        self.settle()
        with open(os.path.join(self.spool, USER), "rb") as f:
            self.snapshot = f.read()

    def settle(self):
        """Mailutils rewrites its mbox (X-UIDL, Status headers) in the child that
        served the session, which may still run after QUIT was answered: wait
        until the daemon has no child left (10 s at most)."""
        daemon = self.procs[0].pid if self.procs else None
        deadline = time.monotonic() + 10
        while daemon is not None and time.monotonic() < deadline:
            if not children_of(daemon):
                break
            time.sleep(0.05)
        time.sleep(0.1)

    def start(self):
        pop3d = shutil.which("pop3d") or "/usr/sbin/pop3d"
        proc = self.spawn(
            [pop3d, f"--config-file={self.config}", "--daemon", "--foreground"], "pop3d.log"
        )
        wait_port(self.port, proc, what=self.name)
        self.prime()


class Inetd(Server):
    """A server run per connection: socat accepts on 127.0.0.1 and execs it with
    the TCP socket as stdin/stdout (`nofork`: some servers look at fd 0 to
    decide between inetd and standalone mode)."""

    def command(self):
        raise NotImplementedError

    def start(self):
        socat = shutil.which("socat")
        proc = self.spawn(
            [
                socat,
                f"TCP-LISTEN:{self.port},bind=127.0.0.1,fork,reuseaddr",
                "EXEC:" + " ".join(self.command()) + ",nofork",
            ],
            "socat.log",
        )
        wait_port(self.port, proc, what=self.name)

    def missing(self):
        if not shutil.which("socat"):
            return "socat is not installed"
        return None


class Popa3d(Inetd):
    """popa3d reads the system mailbox /var/mail/<user> (not configurable)."""

    name = "popa3d"
    BINARY = os.path.join(EXTRACTED, "popa3d/usr/sbin/popa3d")

    def missing(self):
        if not os.path.exists(self.BINARY):
            return f"popa3d not unpacked at {self.BINARY}"
        return super().missing()

    def setup(self, root):
        super().setup(root)
        user = ensure_system_user()
        self.uid, self.gid = user.pw_uid, user.pw_gid
        ensure_system_account("popa3d", "popa3d", "/var/lib/popa3d")
        os.chmod("/var/lib/popa3d", 0o755)
        self.port = free_port()
        self.mbox = f"/var/mail/{USER}"
        self.restore()

    def restore(self):
        write_mbox(self.mbox, self.uid, grp.getgrnam("mail").gr_gid, 0o660)

    def command(self):
        return [self.BINARY]

    def stop(self):
        super().stop()
        if self.root and os.path.exists(self.mbox):
            os.unlink(self.mbox)


class Solid(Inetd):
    """Solid POP3, with a private config naming an mbox under the work dir."""

    name = "solid"
    BINARY = os.path.join(EXTRACTED, "solid-pop3d/usr/sbin/solid-pop3d")

    def missing(self):
        if not os.path.exists(self.BINARY):
            return f"solid-pop3d not unpacked at {self.BINARY}"
        return super().missing()

    def setup(self, root):
        super().setup(root)
        user = ensure_system_user()
        self.uid, self.gid = user.pw_uid, user.pw_gid
        ensure_system_account("spop3d", "mail", "/var/lib/solid-pop3d")
        # It fails a login ("-ERR fatal error") when this directory is missing.
        os.makedirs("/var/lib/solid-pop3d/bulletins", exist_ok=True)
        self.port = free_port()
        # The mbox's directory must be writable by the user for lock files.
        self.spool = os.path.join(self.root, "mail")
        os.makedirs(self.spool, exist_ok=True)
        os.chown(self.spool, self.uid, self.gid)
        self.mbox = os.path.join(self.spool, USER)
        self.config = os.path.join(self.root, "spop3d.conf")
        with open(self.config, "w") as f:
            f.write(
                f"""<Global>
	MailDropName	"{self.spool}/%s"
	MailDropType	mailbox
	LogStatistics	no
</Global>
"""
            )
        self.restore()

    def restore(self):
        write_mbox(self.mbox, self.uid, self.gid)

    def command(self):
        return [self.BINARY, "-f", self.config]


class Courier(Server):
    """Courier's authdaemond (PAM) and couriertcpd running pop3login/pop3d, a
    Maildir named by absolute path."""

    name = "courier"
    LIB = os.path.join(EXTRACTED, "courier-pop/usr/lib/courier/courier")
    AUTHDAEMOND = "/usr/lib/courier/courier-authlib/authdaemond"

    def missing(self):
        for path in (self.AUTHDAEMOND, "/usr/sbin/couriertcpd", os.path.join(self.LIB, "courierpop3d")):
            if not os.path.exists(path):
                return f"{path} is missing (courier-authdaemon, courier-base, courier-pop unpacked)"
        return None

    def setup(self, root):
        super().setup(root)
        user = ensure_system_user()
        self.uid, self.gid = user.pw_uid, user.pw_gid
        self.port = free_port()
        self.maildir = os.path.join(self.root, "Maildir")
        self.restore()

    def restore(self):
        write_maildir(self.maildir, self.uid, self.gid)

    def env(self, path):
        """The variables a Courier shell config file sets, without running its scripts."""
        out = subprocess.run(
            ["/bin/sh", "-c", 'set -a; . "$1"; env -0', "sh", path],
            capture_output=True,
            check=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        ).stdout
        env = {}
        for item in out.split(b"\0"):
            if b"=" in item:
                k, v = item.split(b"=", 1)
                env[k.decode()] = v.decode()
        return env

    def start(self):
        # authdaemond listens on its compiled-in unix socket only.
        os.makedirs("/run/courier/authdaemon", exist_ok=True)
        self.spawn([self.AUTHDAEMOND], "authdaemond.log", env=self.env("/etc/courier/authdaemonrc"))
        time.sleep(0.3)
        env = self.env(os.path.join(EXTRACTED, "courier-pop/etc/courier/pop3d"))
        proc = self.spawn(
            [
                "/usr/sbin/couriertcpd",
                "-address=127.0.0.1",
                "-nodnslookup",
                "-noidentlookup",
                "-maxprocs=40",
                "-maxperip=40",
                str(self.port),
                os.path.join(self.LIB, "courierpop3login"),
                os.path.join(self.LIB, "courierpop3d"),
                self.maildir,
            ],
            "couriertcpd.log",
            env=env,
        )
        wait_port(self.port, proc, what=self.name)


class Serve(Server):
    """Our own `serve` example over a Maildir with the same messages."""

    name = "serve"

    def __init__(self, binary):
        super().__init__()
        self.binary = binary

    def missing(self):
        if not os.path.exists(self.binary):
            return f"{self.binary} is not built"
        return None

    def setup(self, root):
        super().setup(root)
        self.port = free_port()
        self.maildir = os.path.join(self.root, "Maildir")
        self.restore()

    def restore(self):
        write_maildir(self.maildir, os.getuid(), os.getgid())

    def start(self):
        proc = self.spawn(
            [
                self.binary,
                "--listen", f"127.0.0.1:{self.port}",
                "--maildir", self.maildir,
                "--user", f"{USER}:{PASSWORD}",
            ],
            "serve.log",
        )
        wait_port(self.port, proc, what=self.name)


def real_servers():
    return [Dovecot(), Cyrus(), Mailutils(), Popa3d(), Courier(), Solid()]
