"""A warm process that forks one child per importer run, for the crash harness.

Starting Python and importing pandas costs about a second; a crash trial runs the importer two to
four times.  The zygote imports everything once, then for each request on stdin forks a child
that runs `python -m importer ARGS` exactly as the interpreter would (`runpy`, `__main__`),
optionally killing it with SIGKILL after a delay, and answers on stdout how it ended.

It says "ready" once warm.  Request:  {"argv": [...], "env": {...}, "out": "path", "kill_after": 0.05 | null}
Answer:   {"code": 0 | null, "signal": 9 | null}
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import time
from typing import Any

import importer.cli.run_cmd  # noqa: F401  (the point: import once, before forking; commands load lazily)
from tests.loopback import register


def child(request: dict[str, Any]) -> None:
    os.environ.update(request["env"])
    fd = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.argv = ["importer", *request["argv"]]
    code = 0
    try:
        runpy.run_module("importer", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # a traceback is a failure the harness must see
        import traceback

        traceback.print_exc()
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def wait(pid: int, kill_after: float | None) -> dict[str, int | None]:
    deadline = None if kill_after is None else time.monotonic() + kill_after
    while True:
        done, status = os.waitpid(pid, os.WNOHANG if deadline is not None else 0)
        if done:
            return {
                "code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            }
        if deadline is not None and time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = None
        time.sleep(0.001)


def warm_up() -> None:
    """Fill the caches every run would fill (bank profiles, compiled patterns) once, before forking."""
    from importer.config.paths import user_profile_dirs
    from importer.parsers import ParseOptions, parse_file
    from importer.parsers.csv.profiles import all_profiles
    from tests.golden import SAMPLES_CURRENCY, sample_files

    all_profiles(user_profile_dirs())
    options = ParseOptions(profile_dirs=user_profile_dirs(), check_balances=False, default_currency=SAMPLES_CURRENCY)
    for sample in sample_files():
        parse_file(sample, options)


def main() -> None:
    register()
    warm_up()
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request)
        print(json.dumps(wait(pid, request.get("kill_after"))), flush=True)


if __name__ == "__main__":
    main()
