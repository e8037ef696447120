"""``python -m kairos_cli.detach FD -- COMMAND…``: run COMMAND in the background, detached.

Used by ``kairos stack start``. The command must outlive the CLI, yet the local stack asks to be
signalled when its parent dies (``PR_SET_PDEATHSIG``): so it is started as a grandchild, and
only once the intermediate process has exited (the grandchild then belongs to init, or to the
nearest subreaper) is the command executed. The grandchild's pid is written to file descriptor
FD, which closes when the command is executed (close-on-exec): reading FD to its end waits
exactly for that. Should the command not be found, ``error: …`` follows the pid.

Standard input, output and error are inherited (the caller points them at a log file).
"""

from __future__ import annotations

import os
import sys
import time

_REPARENT_TIMEOUT_SECONDS = 10.0
_EXEC_FAILED = 127


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":  # noqa: PLR2004 - FD, "--" and a command
        sys.stderr.write("usage: python -m kairos_cli.detach FD -- COMMAND [ARG...]\n")
        return 2
    channel, command = int(argv[0]), argv[2:]
    intermediate = os.getpid()
    child = os.fork()
    if child:
        os.write(channel, f"{child}\n".encode())
        os._exit(0)  # the grandchild is now an orphan: reparented, no longer ours
    deadline = time.monotonic() + _REPARENT_TIMEOUT_SECONDS
    while os.getppid() == intermediate and time.monotonic() < deadline:
        time.sleep(0.005)
    os.set_inheritable(channel, False)  # closed by exec: the caller's read ends there
    try:
        os.execvp(command[0], command)  # noqa: S606 - the operator's (or a test's) argument list
    except OSError as error:
        os.write(channel, f"error: cannot run {command[0]}: {error}\n".encode())
        os._exit(_EXEC_FAILED)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
