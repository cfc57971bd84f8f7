"""Serve the loopback Kubernetes API for manual use: ``python -m tests.harness.serve --port 8001``.

It writes a kubeconfig (``--kubeconfig``, default ./loopback.kubeconfig) and,
with ``--run-jobs DIR``, also runs Jobs locally with the LocalRunner. Then:
``KUBECONFIG=./loopback.kubeconfig kubectl get ns``. Ctrl-C stops it.
"""

import argparse
import logging
import pathlib
import signal
import tempfile
import threading

from tests.harness.cluster import LoopbackCluster
from tests.harness.runner import LocalRunner


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the launcher's command-line options."""
    parser = argparse.ArgumentParser(prog="python -m tests.harness.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--kubeconfig", type=pathlib.Path, default=pathlib.Path("loopback.kubeconfig"),
                        help="where to write the kubeconfig")
    parser.add_argument("--run-jobs", type=pathlib.Path, metavar="DIR",
                        help="also run Jobs as local processes, with volumes under DIR")
    parser.add_argument("--parallelism", type=int, default=2, help="Jobs run at once by --run-jobs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the loopback API (and optionally the local runner) until interrupted."""
    options = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    cluster = LoopbackCluster(pathlib.Path(tempfile.mkdtemp(prefix="loopback-kube-")), port=options.port or None)
    options.kubeconfig.write_text(cluster.kubeconfig.read_text())
    runner = None
    if options.run_jobs is not None:
        runner = LocalRunner(options.kubeconfig, root=options.run_jobs, parallelism=options.parallelism).start()
    print(f"loopback Kubernetes API at {cluster.url}; kubeconfig: {options.kubeconfig.resolve()}", flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):  # a timed wait lets the signal handler run promptly
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if runner is not None:
            runner.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
