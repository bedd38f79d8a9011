"""Run ``ivcviewer`` commands in forked children of one process that imported it once.

Each child gets its own process group, resource limits (address space, CPU time, file size,
no core files), stdin from /dev/null, stdout and stderr into files, a working folder and a
home of its own, and calls :func:`ivcviewer.cli.main.main` exactly as the command would; an
exception that escapes is printed as Python prints it (a traceback) and the child exits 1. The
parent waits with a wall-clock timeout and kills the whole group on expiry (a hang).
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: What each child may use.
MEMORY_LIMIT = 3 << 30
CPU_SECONDS = 60
FILE_SIZE_LIMIT = 1 << 30
#: The memory budget ivcviewer is told to keep to (under MEMORY_LIMIT, so that a reader that
#: checks its budget refuses before the address-space limit turns the allocation into a crash).
BUDGET_MB = 1024


@dataclass
class Result:
    """How one child ended."""

    status: int  # exit status, or minus the signal number
    timed_out: bool
    seconds: float
    max_rss_kb: int
    stdout: str
    stderr: str
    leftover: bool  # processes of its group still alive after it exited


def preload() -> Callable[[list[str]], int]:
    """Import the command line and everything its subcommands import, once, in this process."""
    import importlib

    os.environ.setdefault("ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", "1")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    mod = importlib.import_module("ivcviewer.cli.main")
    mod._modules()
    for extra in ("numpy", "scipy.ndimage", "nibabel", "pydicom", "SimpleITK", "yaml"):
        try:
            importlib.import_module(extra)
        except ImportError:
            pass
    return mod.main  # type: ignore[no-any-return]


def _child(main: Callable[[list[str]], int], argv: list[str], work: Path) -> None:
    """Body of a forked child; never returns."""
    status = 70
    try:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
            out = os.open(work / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, fd)
            os.close(out)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.chdir(work)
        home = work / "home"
        home.mkdir(exist_ok=True)
        os.environ.update(
            HOME=str(home),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_CONFIG_HOME=str(home / ".config"),
            IVCVIEWER_MEMORY_BUDGET_MB=str(BUDGET_MB),
        )
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse and --version end this way, as in a real run
            code = exc.code
            if isinstance(code, str):
                print(code, file=sys.stderr)
            status = code if isinstance(code, int) else (0 if code is None else 1)
        except BaseException:  # what Python itself would print for an uncaught exception
            traceback.print_exc()
            status = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status if isinstance(status, int) and 0 <= status < 256 else 70)


def _read(path: Path) -> str:
    # whole: a --json document must be read to its end to be checked (64 MiB at most)
    try:
        return path.read_bytes()[: 64 << 20].decode("utf-8", "replace")
    except OSError:
        return ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_many(
    main: Callable[[list[str]], int],
    jobs: Iterator[tuple[object, list[str], Path]],
    parallel: int,
    timeout: float,
) -> Iterator[tuple[object, Result]]:
    """Run each (key, argv, work folder) in a forked child, ``parallel`` at a time; yield
    (key, result) as children end."""
    running: dict[int, tuple[object, Path, float, bool]] = {}
    pending = iter(jobs)
    exhausted = False
    while running or not exhausted:
        while not exhausted and len(running) < parallel:
            try:
                key, argv, work = next(pending)
            except StopIteration:
                exhausted = True
                break
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(main, argv, work)
            try:
                os.setpgid(pid, pid)
            except OSError:
                pass
            running[pid] = (key, work, time.monotonic(), False)
        if not running:
            continue
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for cpid, (key, work, start, killed) in list(running.items()):
                if not killed and now - start > timeout:
                    try:
                        os.killpg(cpid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    running[cpid] = (key, work, start, True)
            time.sleep(0.01)
            continue
        if pid not in running:
            continue
        key, work, start, killed = running.pop(pid)
        seconds = time.monotonic() - start
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        leftover = _group_alive(pid)
        if leftover:
            time.sleep(0.2)
            leftover = _group_alive(pid)
            if leftover:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        yield (
            key,
            Result(
                status=code,
                timed_out=killed,
                seconds=seconds,
                max_rss_kb=int(usage.ru_maxrss),
                stdout=_read(work / "stdout.txt"),
                stderr=_read(work / "stderr.txt"),
                leftover=leftover,
            ),
        )


def run_in_child(func: Callable[[], None], timeout: float = 300.0) -> int:
    """Run ``func`` in a forked child (so that this process starts no native thread pools)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            func()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    start = time.monotonic()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        if time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
