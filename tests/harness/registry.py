"""A real OCI registry on loopback: Debian's `docker-registry` (the CNCF distribution registry) for the export tests.

It serves plain HTTP on 127.0.0.1 from a temporary storage folder, with htpasswd
logins when asked. `scripts/setup-containers --install` installs the package on CI.
"""

from __future__ import annotations

import pathlib
import shutil
import socket
import subprocess
import time

import requests
import yaml

BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def available() -> bool:
    return pathlib.Path(BINARY).is_file()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackRegistry:
    """`docker-registry serve` on a free loopback port; `users` (name -> password) turns htpasswd logins on."""

    def __init__(self, workdir: pathlib.Path, users: dict[str, str] | None = None) -> None:
        import bcrypt

        self.workdir = workdir
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")}, "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "loopback-test-secret"},
        }
        if users:
            htpasswd = workdir / "htpasswd"
            htpasswd.write_text("".join(f"{name}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()}\n"
                                        for name, password in users.items()))
            config["auth"] = {"htpasswd": {"realm": "loopback", "path": str(htpasswd)}}
        (workdir / "config.yml").write_text(yaml.safe_dump(config))
        self.log = (workdir / "registry.log").open("w")
        self.process = subprocess.Popen([BINARY, "serve", str(workdir / "config.yml")], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"http://{self.host}/v2/", timeout=1).status_code in (200, 401):
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"docker-registry did not start: {(workdir / 'registry.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
