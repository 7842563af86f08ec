"""Starts a real PostgreSQL server and a real Redis server (Debian packages) on free local ports.

What several Rasa replicas share (endpoints.scale-out.yml): PostgreSQL keeps the
conversations, Redis the lock that makes each conversation's messages be handled
one at a time. Used by tests/test_scale_out.py; both servers listen on
127.0.0.1 only, ask for a password, keep their data in a temporary folder and are
stopped (and their data removed) at the end.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from scripts.local_servers import free_port

POSTGRESQL_ROOT = Path("/usr/lib/postgresql")
INSTALL_HINT = "run `make test-packages` (Debian packages postgresql and redis-server)"


class ServiceError(RuntimeError):
    pass


@dataclass
class PostgreSQL:
    host: str
    port: int
    database: str
    user: str  # owns `database`; not a superuser
    password: str = field(repr=False)

    def environment(self) -> dict[str, str]:
        """The variables endpoints.scale-out.yml reads for its tracker store."""
        return {
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_DB": self.database,
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
        }

    def connect(self):
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, dbname=self.database, user=self.user,
            password=self.password, connect_timeout=5,
        )


@dataclass
class Redis:
    host: str
    port: int
    password: str = field(repr=False)

    def environment(self) -> dict[str, str]:
        """The variables endpoints.scale-out.yml reads for its lock store."""
        return {"REDIS_HOST": self.host, "REDIS_PORT": str(self.port), "REDIS_PASSWORD": self.password}

    def client(self):
        import redis

        return redis.Redis(host=self.host, port=self.port, password=self.password, socket_timeout=5)


def postgresql_bin() -> Path:
    """The bin/ folder of the newest PostgreSQL installed from Debian's packages."""
    versions = [
        path.parent.parent for path in POSTGRESQL_ROOT.glob("*/bin/postgres")
        if (path.parent / "initdb").exists()
    ]
    if not versions:
        raise ServiceError(f"PostgreSQL is not installed (no {POSTGRESQL_ROOT}/<version>/bin/postgres): {INSTALL_HINT}")
    newest = max(versions, key=lambda path: [int(n) for n in re.findall(r"\d+", path.name)] or [0])
    return newest / "bin"


def redis_server_bin() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if not found:
        raise ServiceError(f"redis-server is not installed: {INSTALL_HINT}")
    return found


def _wait(ready: Callable[[], bool], process: subprocess.Popen, name: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        try:
            if ready():
                return
        except Exception:  # not accepting connections yet
            pass
        time.sleep(0.2)
    raise ServiceError(f"{name} not ready after {timeout}s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def _stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _reachable_by(user: str, folder: Path) -> bool:
    return subprocess.run(["test", "-w", str(folder), "-a", "-x", str(folder)], user=user).returncode == 0


@contextmanager
def postgresql(workdir: Path, database: str = "rasa", user: str = "rasa") -> Iterator[PostgreSQL]:
    """A new PostgreSQL cluster on 127.0.0.1 and a free port, password (SCRAM) authentication.

    The cluster's superuser `postgres` and `user` (owner of `database`, like a
    production setup) get random passwords; the server's log is workdir/postgresql.log.
    PostgreSQL refuses to run as root: as root, it runs as the `postgres` user, with
    its data in workdir/postgresql if that user can reach it, otherwise (e.g. pytest's
    0700 temporary folders) in a new folder of the system's temporary directory.
    """
    bin_dir = postgresql_bin()
    as_root = os.geteuid() == 0
    owner = {}
    if as_root:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise ServiceError(f"running as root and there is no `postgres` user: {INSTALL_HINT}") from None
        owner = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    workdir.mkdir(parents=True, exist_ok=True)
    base = workdir / "postgresql"
    base.mkdir()
    if as_root:
        os.chown(base, account.pw_uid, account.pw_gid)
        if not _reachable_by("postgres", base):
            base.rmdir()
            base = Path(tempfile.mkdtemp(prefix="postgresql-"))
            os.chown(base, account.pw_uid, account.pw_gid)
    data = base / "data"
    log = workdir / "postgresql.log"
    superuser_password = secrets.token_hex(16)
    password = secrets.token_hex(16)
    process = output = None
    try:
        password_file = base / "superuser-password"
        password_file.write_text(superuser_password + "\n")
        if as_root:
            os.chown(password_file, account.pw_uid, account.pw_gid)
        with log.open("a") as output:
            initdb = subprocess.run(
                [str(bin_dir / "initdb"), "--pgdata", str(data), "--username", "postgres",
                 f"--pwfile={password_file}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                stdout=output, stderr=subprocess.STDOUT, cwd=base, **owner,
            )
        password_file.unlink()
        if initdb.returncode != 0:
            raise ServiceError(f"initdb failed ({initdb.returncode}):\n{_tail(log)}")

        port = free_port()
        output = log.open("a")
        process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
             # Throw-away data: no waiting for the disk.
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=output, stderr=subprocess.STDOUT, cwd=base, **owner,
        )
        import psycopg2
        from psycopg2 import sql

        def superuser():
            return psycopg2.connect(host="127.0.0.1", port=port, dbname="postgres", user="postgres",
                                    password=superuser_password, connect_timeout=2)

        def accepts_connections() -> bool:
            superuser().close()
            return True

        _wait(accepts_connections, process, "PostgreSQL", log)
        connection = superuser()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(user)), [password])
            cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(user)))
        connection.close()
        yield PostgreSQL("127.0.0.1", port, database, user, password)
    finally:
        if process is not None:
            _stop(process, signal.SIGINT)  # "fast" shutdown: ends the open sessions
        if output is not None:
            output.close()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def redis(workdir: Path) -> Iterator[Redis]:
    """A Redis server on 127.0.0.1 and a free port, with a random password and no persistence.

    Its configuration and log are in workdir/redis/.
    """
    server = redis_server_bin()
    folder = workdir / "redis"
    folder.mkdir(parents=True)
    port = free_port()
    password = secrets.token_hex(16)
    config = folder / "redis.conf"
    # In a file, not on the command line: the password does not show in `ps`.
    config.write_text(
        f"port {port}\nbind 127.0.0.1\nprotected-mode yes\nrequirepass {password}\n"
        f'save ""\nappendonly no\ndir {folder}\ndaemonize no\nlogfile ""\n'
    )
    config.chmod(0o600)
    log = folder / "redis.log"
    output = log.open("a")
    process = subprocess.Popen([server, str(config)], stdout=output, stderr=subprocess.STDOUT, cwd=folder)
    service = Redis("127.0.0.1", port, password)
    try:
        _wait(lambda: service.client().ping(), process, "Redis", log)
        yield service
    finally:
        _stop(process, signal.SIGTERM)
        output.close()
