"""A real PostgreSQL server for the tests: the one `IMPORTER_TEST_PG` names, or a throwaway cluster.

The throwaway cluster is made with the machine's `initdb` and `pg_ctl` (PATH, then Debian's
/usr/lib/postgresql/*/bin) in a temporary folder, listening on 127.0.0.1 at a free port and on a
unix socket in that folder, and stopped at the end of the session.  PostgreSQL refuses to run as
root, so under root the folder goes to the `postgres` system user and both tools run as it.  The
role has a password and the server asks for it (scram-sha-256), so the tests that grep output for
a password test something real.  Without the tools the PostgreSQL tests skip with a message naming
what is missing; with `CI=true` they fail instead, so CI can never pass by skipping them.

Each test gets a schema of its own (`isolated_url`): creating one costs a few milliseconds where a
database per test costs a copy of the template's files, and two schemas share no table.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from importer.config.state_location import Location, PgUrl

ROLE = "importer"
DATABASE = "importer_tests"
_MAX_CONNECTIONS = 40  # a test opens one or two; watchers in a trial a few more
_PREFIX = "importer-pg-"
_TIMEOUT = 60  # seconds pg_ctl may take to start or stop the server


@dataclass(frozen=True)
class Server:
    url: str  # with the password in it
    password: str
    folder: Path | None  # the throwaway cluster's, None for `IMPORTER_TEST_PG`

    def isolated_url(self, schema: str) -> str:
        """A URL on a new, empty schema `schema`, found first on the search path."""
        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            db.execute(f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}options=-csearch_path%3D{schema}"

    def drop(self, schema: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def cli_arg(location: Location) -> str:
    """`location` as `--state` takes it: the path, or the whole URL (password and all)."""
    return location.url if isinstance(location, PgUrl) else str(location)


def missing_tools() -> str | None:
    """What is missing to start a throwaway server, None when nothing is."""
    if _tool("initdb") is None or _tool("pg_ctl") is None:
        return "PostgreSQL's initdb and pg_ctl (Debian package `postgresql`) are not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root needs `runuser` to start PostgreSQL as the postgres user"
    return None


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def start() -> Server:
    """A running throwaway server (call `missing_tools()` first)."""
    stop_orphans()
    folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
    (folder / "owner").write_text(str(os.getpid()))
    password = "pw-" + secrets.token_hex(12)
    (folder / "pw").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(folder / "pw", "postgres", "postgres")
    data, port = folder / "data", _free_port()
    _run("initdb", "-D", str(data), "-U", ROLE, "--pwfile", str(folder / "pw"), "--auth", "scram-sha-256", "-E", "UTF8")
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections={_MAX_CONNECTIONS} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # a test cluster: no crash safety needed
    )
    _run("pg_ctl", "start", "-w", "-t", str(_TIMEOUT), "-D", str(data), "-l", str(folder / "log"), "-o", options)
    admin = f"postgresql://{ROLE}:{quote(password)}@127.0.0.1:{port}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as db:
        db.execute(f"CREATE DATABASE {DATABASE}")
    return Server(f"postgresql://{ROLE}:{quote(password)}@127.0.0.1:{port}/{DATABASE}", password, folder)


def from_environment(url: str) -> Server:
    """The server `IMPORTER_TEST_PG` names (its password, if the URL holds one, is what output is grepped for)."""
    password = psycopg.conninfo.conninfo_to_dict(url).get("password") or ""
    return Server(url, str(password), None)


def stop(server: Server) -> None:
    """Stop a throwaway server and remove its folder; a server from the environment is left alone."""
    if server.folder is None:
        return
    _run("pg_ctl", "stop", "-m", "fast", "-w", "-t", str(_TIMEOUT), "-D", str(server.folder / "data"))
    shutil.rmtree(server.folder, ignore_errors=True)


def stop_orphans() -> None:
    """Stop the throwaway servers of test sessions that were killed before they could stop them.

    A killed pytest (a timeout, Ctrl-C twice, SIGKILL) never reaches `stop`; its server would run
    on, holding memory and a port, until the machine restarts.  Each folder names the process that
    made it: one whose process is gone is an orphan."""
    for owner in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*/owner"):
        if not _alive(owner.read_text().strip()):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                _run("pg_ctl", "stop", "-m", "immediate", "-w", "-t", "20", "-D", str(owner.parent / "data"))
            shutil.rmtree(owner.parent, ignore_errors=True)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (ValueError, PermissionError):
        return True  # unreadable or not ours to signal: leave it alone
    return True


def _run(tool: str, *args: str) -> None:
    command = [_tool(tool) or tool, *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    # cwd: the postgres user may not be allowed into the current folder.
    subprocess.run(command, check=True, capture_output=True, cwd="/", timeout=_TIMEOUT + 30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
