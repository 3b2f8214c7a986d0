"""What the benchmarks share: a fresh PostgreSQL database or SQLite file, a set-up run in a
child process, `jigi serve` started and stopped, and N client threads timing their requests."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

JIGI = str(Path(sys.executable).with_name("jigi"))
ROOT = Path(__file__).resolve().parent.parent


def fresh_postgres(db: str) -> tuple[str, dict[str, str]]:
    """A migrated database of the bench's own (others may run theirs in parallel); returns its
    URL and the environment that points Jigi at it."""
    url = f"postgres://postgres@127.0.0.1:5432/{db}"
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db],
                   check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", db], check=True)
    env = dict(os.environ, JIGI_DATABASE_URL=url, JIGI_DB_CONN_MAX_AGE="60")
    subprocess.run([JIGI, "migrate", "-v0"], env=env, check=True)
    return url, env


def fresh_sqlite(path: Path) -> None:
    """A migrated SQLite file at `path` (copied from a template migrated once beside it: the
    migrations take longer than most benches), and Django set up on it in this process."""
    template = path.with_suffix(".template.sqlite3")
    if not template.exists():
        subprocess.run([JIGI, "migrate", "-v0"], check=True,
                       env=dict(os.environ, JIGI_DATABASE_URL=f"sqlite:///{template}"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, path)
    os.environ["JIGI_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    import django

    django.setup()


def setup_in_child(env: dict[str, str], code: str) -> list[str]:
    """Run set-up `code` with Django configured in a child process; its printed lines."""
    out = subprocess.run([sys.executable, "-c", "import os,django;"
                          "os.environ.setdefault('DJANGO_SETTINGS_MODULE','jigi.settings');"
                          "django.setup();" + code], env=env, check=True,
                         capture_output=True, text=True, cwd=ROOT)
    return out.stdout.strip().splitlines()


@contextmanager
def served(env: dict[str, str], *, port: int, workers: int, threads: int, log_name: str
           ) -> Iterator[subprocess.Popen]:
    """`jigi serve` on `port` until the block ends, once /api/v1/health answers."""
    log = open(Path(tempfile.gettempdir()) / log_name, "w")  # noqa: SIM115
    server = subprocess.Popen([JIGI, "serve", "--port", str(port), "--threads", str(threads),
                               "--workers", str(workers), "--no-migrate"],
                              env=dict(env, JIGI_LOG_LEVEL="ERROR"), stdout=log, stderr=log)
    try:
        for _ in range(50):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                    "GET", "/api/v1/health")
                break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def run_clients(port: int, clients: int, per_client: int,
                request: Callable[[int, int], tuple[str, str, dict[str, str]]]
                ) -> tuple[list[float], float]:
    """`clients` threads, each sending `per_client` POSTs built by request(client, k) ->
    (path, body, headers); any answer but 201 stops the bench. Sorted latencies (ms) and the
    wall time (s)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(ci: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for k in range(per_client):
            path, body, headers = request(ci, k)
            t = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            dt = (time.perf_counter() - t) * 1000
            if resp.status != 201:
                raise RuntimeError(f"status {resp.status}: {text[:300]!r}")
            with lock:
                latencies.append(dt)

    pool = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return sorted(latencies), time.perf_counter() - t0


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, 0 if it is gone (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The process and its children (gunicorn's workers), from /proc."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(c for child in children for c in process_tree(int(child)))]


def summary(latencies: list[float], took: float) -> str:
    import statistics

    return (f"{len(latencies) / took:,.0f}/s, p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms ({len(latencies)} requests)")
