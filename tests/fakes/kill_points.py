"""Which strace kill points really killed: a check shared by the kill -9 tests.

`strace -e inject=<call>:signal=SIGKILL:when=<n>` kills the traced command at its n-th
`<call>`, and strace then ends itself with the same signal (status -9). The kill points come
from a dry run; a later run may make fewer of some call (a search-index commit a background
thread makes or not), so its last points can be passed without a kill: the command then
simply finishes (status 0). Such a point tests nothing, which is allowed only at the end of
a call's sequence — if the n-th call was never made, neither was the (n+1)-th.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping

KILLED = -signal.SIGKILL


def unproven_kills(status: Mapping[tuple[str, int], int]) -> list[str]:
    """What is wrong with a set of kill runs, by (call, n) → the killed run's exit status:
    no point killed at all, a run that neither died by SIGKILL nor finished, or a point
    passed without a kill although a later call of the same kind did kill. Empty when
    every point either died or lay past the last such call the run made."""
    problems = []
    if KILLED not in status.values():
        problems.append("no kill point killed the command")
    for (call, n), code in sorted(status.items()):
        if code not in (KILLED, 0):
            problems.append(f"{call} #{n}: exit {code}, neither killed nor finished")
        elif code == 0 and any(c == call and m > n and s == KILLED
                               for (c, m), s in status.items()):
            problems.append(f"{call} #{n}: passed without a kill, yet {call} later killed")
    return problems

