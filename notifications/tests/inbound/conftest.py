"""A real IMAP server for the poller's tests (issue 19): Debian's dovecot-imapd (scripts/test installs it),
started with a throw-away configuration in the test's tmp folder on a free loopback port, stopped after."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "lms", "secret"

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    def __init__(self, root):
        self.root = root
        self.port = _free_port()
        self.config = root / "dovecot.conf"
        self.process = None

    @property
    def url(self):
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def start(self):
        for folder in ("run", "state"):
            (self.root / folder).mkdir(exist_ok=True)
        # Dovecot never runs mail processes as root: the mail belongs to "nobody", in a folder it can reach.
        nobody = pwd.getpwnam("nobody")
        self.mail = self.mail if getattr(self, "mail", None) else tempfile.mkdtemp(prefix="lms-dovecot-")
        os.chmod(self.mail, 0o755)
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        self.config.write_text(
            CONFIG.format(
                root=self.root,
                mail=self.mail,
                port=self.port,
                password=PASSWORD,
                uid=nobody.pw_uid,
                gid=nobody.pw_gid,
            )
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-c", str(self.config), "-F"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stop() ends the open IMAP sessions too
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        raise RuntimeError(f"dovecot did not start: {self.process.stderr.read().decode()} {log}")

    def stop(self):
        """The server goes away at once, open connections included (as a crashed or restarted server)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self.process = None

    def mailbox(self):
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted("127.0.0.1", port=self.port).login(USER, PASSWORD)

    def deliver(self, *messages):
        with self.mailbox() as box:
            for message in messages:
                box.append(message, "INBOX")

    def count(self, folder):
        with self.mailbox() as box:
            if not box.folder.exists(folder):
                return 0
            box.folder.set(folder)
            return len(box.uids("ALL"))


@pytest.fixture
def dovecot(tmp_path):
    if not os.path.exists(DOVECOT):
        pytest.fail("Debian's dovecot-imapd is missing: scripts/test installs it (apt-get install dovecot-imapd)")
    server = Dovecot(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.mail, ignore_errors=True)
