"""A real OpenAI-compatible server on loopback: `transformers serve` with the tiny model built by the fixtures.

Not a fake: the server is transformers' own FastAPI app (the `serving` extra, which needs
the `openai` package), serving the same tiny random Llama the other tests load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_chart import free_port

START_SECONDS = 180


@dataclass
class ServedModel:
    """A running server: its base URL (…/v1), the model's name on it, and the server's log."""

    url: str
    model: str
    log: Path

    def requests_seen(self) -> int:
        """How many chat completions the server answered so far (uvicorn's access lines)."""
        return self.log.read_text(errors="replace").count('"POST /v1/chat/completions HTTP/1.1" 200')


def _serve_command() -> list[str]:
    script = Path(sys.executable).parent / "transformers"
    if not script.is_file():
        pytest.fail(f"no `transformers` command beside {sys.executable}: install the worker extra")
    return [str(script), "serve"]


@pytest.fixture(scope="module")
def served_tiny(tmp_path_factory):
    """The tiny model behind `transformers serve` on a free loopback port, for the module's tests."""
    from model_hospital.clinic.models import build_tiny_model

    model = str(build_tiny_model())
    folder = tmp_path_factory.mktemp("served")
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(folder / "hub"), "DO_NOT_TRACK": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    with log.open("w") as sink:
        server = subprocess.Popen(
            [*_serve_command(), model, "--host", "127.0.0.1", "--port", str(port), "--device", "cpu",
             "--dtype", "float32", "--log-level", "info", "--no-trust-remote-code"],
            stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                tail = log.read_text(errors="replace")[-1500:]
                pytest.fail("`transformers serve` exited before it answered (its serving extra needs the "
                            f"`openai` package: pip install -e '.[dev]'):\n{tail}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`transformers serve` did not answer /health in {START_SECONDS} s")
            time.sleep(0.5)
        yield ServedModel(url=f"http://127.0.0.1:{port}/v1", model=model, log=log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
