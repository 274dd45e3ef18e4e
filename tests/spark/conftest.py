"""Fixtures of the Spark tests: the CLI and the Spark driver run side by side on the same
inputs, in Spark's local[2] mode and on a standalone cluster (a master and two workers
started with Spark's own spark-class on 127.0.0.1, so that executors are separate
processes).

Run by scripts/test-spark in a fresh venv where the built wheel is installed; the CLI is
target/debug/themata (THEMATA_BIN), built by `cargo test`.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
BBC = SHARED / "corpora" / "bbc"
THEMATA = Path(os.environ.get("THEMATA_BIN", ROOT / "target" / "debug" / "themata"))

# the workers import what PYSPARK_PYTHON points at: this venv, with pyarrow and themata
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def run_cli(pipeline, out, *extra, input=None):
    """`themata run PIPELINE` into `out`; returns the completed process."""
    if not THEMATA.exists():
        pytest.fail(f"{THEMATA} not found: build it with `cargo test --workspace --no-run`")
    cmd = [str(THEMATA), "run", str(pipeline), "--output", str(out), "--force", "--quiet", *extra]
    if input:
        cmd += ["--input", str(input)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return p


def run_spark(pipeline, out, master="local[2]", *extra, input=None, check=True):
    """`python -m themata.spark run PIPELINE` into `out`; returns the completed process."""
    cmd = [sys.executable, "-m", "themata.spark", "run", str(pipeline), "--output", str(out), "--master", master, *extra]
    if input:
        cmd += ["--input", str(input)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    if check:
        assert p.returncode == 0, p.stderr[-4000:]
    return p


@pytest.fixture(scope="session")
def tmp_root():
    d = Path(tempfile.mkdtemp(prefix="themata-spark-tests-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spark_home():
    import pyspark

    return Path(pyspark.__file__).parent


@pytest.fixture(scope="session")
def spark_cluster(tmp_root):
    """A standalone Spark cluster on 127.0.0.1: one master, two workers of one core each,
    started with spark-class; its master URL. Every JVM is stopped at the end."""
    home = _spark_home()
    spark_class = home / "bin" / "spark-class"
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    logs = tmp_root / "cluster-logs"
    logs.mkdir()
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    procs = []

    def start(name, *args):
        log = open(logs / f"{name}.log", "w")
        p = subprocess.Popen(
            [str(spark_class), *args], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        procs.append((p, log))
        return logs / f"{name}.log"

    try:
        master_log = start(
            "master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
            "--webui-port", str(_free_port()),
        )
        _wait_for(master_log, "I have been elected leader", 90)
        worker_logs = [
            start(
                f"worker{i}", "org.apache.spark.deploy.worker.Worker", url, "--cores", "1", "--memory", "1g",
                "--host", "127.0.0.1", "--webui-port", str(_free_port()), "--work-dir", str(tmp_root / f"work{i}"),
            )
            for i in range(2)
        ]
        for w in worker_logs:
            _wait_for(w, "Successfully registered with master", 90)
        yield url
    finally:
        for p, log in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p, log in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
            log.close()


def _wait_for(log: Path, text: str, seconds: float):
    end = time.time() + seconds
    while time.time() < end:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{log.name}: no {text!r} after {seconds} s:\n{log.read_text(errors='replace')[-3000:]}")
