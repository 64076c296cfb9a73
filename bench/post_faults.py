"""Kill `paperboy post` at every durable write of a daily post, in turn, and check the result.

A durable write is a rename that puts a fully written file in place (the store's atomic
writes, the search index's commits) or a link that keeps a team-state file's last good
copy. A dry run under strace lists every such syscall a 6-message post makes (header + 5
picks of the sample batch, from the fake Hugging Face in tests/fakes on 127.0.0.1). Then,
for each one, a fresh data directory gets `paperboy post` run under
`strace -e inject=<syscall>:signal=SIGKILL:when=<n>` — the kernel kills the process as it
makes that call — and then `paperboy post` again, as a restart would. What the two runs
printed together must show the header and every pick exactly once, and the second run must
finish the day.

Reported: one row per kill point (the syscall, its number, the file it was writing, what
the restart printed) and whether every pick appeared exactly once. Prints a markdown table
and rewrites its own section of docs/benchmarks.md. Exit status 1 when a kill point breaks
the promise, 2 when strace is missing.
Run: .venv/bin/python bench/post_faults.py [--no-docs]
tests/scenarios/test_post_faults.py runs the same kill points in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._report import machine, write_section  # noqa: E402

SECTION = "post_faults"
DAY = "2026-06-12"
PAPERBOY = Path(sys.executable).parent / "paperboy"
DURABLE = ("rename", "renameat", "renameat2", "link", "linkat")
PICKS = 5
# A header line ("Daily papers — …") and a pick's links line ("arXiv https://…/abs/<id>").
_HEADER = re.compile(r"^\[\d+\] Daily papers — ", re.M)
_PICK = re.compile(r"arXiv https://arxiv\.org/abs/(\S+)")
_CALL = re.compile(r'^\d+\s+(?P<call>\w+)\((?:AT_FDCWD, )?"(?P<src>[^"]+)"(?:, (?:AT_FDCWD, )?'
                   r'"(?P<dst>[^"]+)")?')
CHILD_TIMEOUT = 90.0


@dataclass(frozen=True)
class KillPoint:
    """One durable write the post makes, and what happened when the process died there."""

    call: str
    n: int  # the n-th call of `call` in the run
    path: str  # the file the killed call was putting in place, relative to the data dir
    nth_on_path: int  # which write of that file it was (1 = the first) in the killed run
    killed: bool  # the first run died by SIGKILL (not finished before the n-th call)
    headers: int  # header messages printed by the two runs together
    picks: Counter[str]  # pick messages printed by the two runs together, by arXiv id
    restart_status: int
    restart_error: str

    @property
    def exactly_once(self) -> bool:
        return (self.headers == 1 and len(self.picks) == PICKS
                and set(self.picks.values()) == {1})


def config_text(hf_url: str, data_dir: Path) -> str:
    return (
        f'[storage]\npath = "{data_dir}"\n\n'
        f'[sources.huggingface]\nbase_url = "{hf_url}"\ntimeout = 10\n\n'
        f'[sources.arxiv]\nbase_url = "{hf_url}"\nrss_url = "{hf_url}"\n\n'
        '[[channels]]\nname = "console"\nplatform = "console"\n'
    )


async def _run(*argv: str, cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        # No .pyc writes: they are renames too, and would shift the count between runs.
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    out, err = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _post(config: Path) -> tuple[str, ...]:
    return (str(PAPERBOY), "--config", str(config), "post", "--channel", "console",
            "--date", DAY)


async def durable_writes(hf_url: str, workdir: Path) -> list[tuple[str, int, str]]:
    """(syscall, n, file) for every durable write of one uninterrupted post, in order."""
    data = workdir / "dry" / "data"
    config = _config(hf_url, data)
    trace = workdir / "dry" / "trace.txt"
    status, _, err = await _run(
        "strace", "-f", "-qq", "-e", f"trace={','.join(DURABLE)}", "-o", str(trace),
        *_post(config), cwd=config.parent,
    )
    if status != 0:
        raise RuntimeError(f"the uninterrupted post failed: {err.strip()[-300:]}")
    seen: Counter[str] = Counter()
    writes = []
    for line in trace.read_text("utf-8").splitlines():
        match = _CALL.match(line)
        if match is None:
            continue  # a "<... resumed>" half of a call another thread interrupted
        call = match["call"]
        seen[call] += 1
        writes.append((call, seen[call], _relative(_stable(match), data)))
    return writes


async def kill_at(hf_url: str, workdir: Path, call: str, n: int, path: str) -> KillPoint:
    """Post with the process killed at the n-th `call`, then post again; report both."""
    data = workdir / f"{call}-{n}" / "data"
    config = _config(hf_url, data)
    trace = data.parent / "trace.txt"
    status, first, _ = await _run(
        "strace", "-f", "-qq", "-o", str(trace),
        "-e", f"trace={call}", "-e", f"inject={call}:signal=SIGKILL:when={n}",
        *_post(config), cwd=config.parent,
    )
    # Other threads (the search index's committer) make calls on their own timer, so the
    # n-th call is not always the same file: the killed run's own trace says which it was.
    hit, nth = _killed_write(trace, data) or (path, 0)
    restart_status, second, restart_err = await _run(*_post(config), cwd=config.parent)
    both = first + second
    return KillPoint(
        call=call, n=n, path=hit, nth_on_path=nth, killed=status in (-9, 137),
        headers=len(_HEADER.findall(both)), picks=Counter(_PICK.findall(both)),
        restart_status=restart_status,
        restart_error=restart_err.strip().splitlines()[-1] if restart_err.strip() else "",
    )


async def kill_at_every_write(hf_url: str, workdir: Path) -> list[KillPoint]:
    writes = await durable_writes(hf_url, workdir)
    return [await kill_at(hf_url, workdir, call, n, path) for call, n, path in writes]


def _killed_write(trace: Path, data: Path) -> tuple[str, int] | None:
    """The file the last traced call was putting in place, and which write of it it was."""
    seen: Counter[str] = Counter()
    last: tuple[str, int] | None = None
    for line in trace.read_text("utf-8").splitlines():
        match = _CALL.match(line)
        if match is None:
            continue
        target = _relative(_stable(match), data)
        seen[target] += 1
        last = (target, seen[target])
    return last


def _stable(match: re.Match[str]) -> str:
    # A rename puts its second path in place; a link backs up its first.
    return match["dst"] if match["call"].startswith("rename") and match["dst"] else match["src"]


def _config(hf_url: str, data: Path) -> Path:
    data.parent.mkdir(parents=True, exist_ok=True)
    config = data.parent / "config.toml"
    config.write_text(config_text(hf_url, data), encoding="utf-8")
    return config


def _relative(path: str, data: Path) -> str:
    try:
        return str(Path(path).relative_to(data))
    except ValueError:
        return path


def table(points: list[KillPoint]) -> str:
    lines = [
        "| kill at | file being put in place | died | header | picks shown | restart |",
        "|---|---|---|---|---|---|",
    ]
    for p in points:
        shown = ", ".join(f"{n}×" for n in sorted(p.picks.values())) or "none"
        lines.append(
            f"| {p.call} #{p.n} | `{_clean(p.path)}` (write {p.nth_on_path}) | "
            f"{'yes' if p.killed else 'no'} | "
            f"{p.headers}× | {len(p.picks)} of {PICKS} ({shown}) | exit {p.restart_status} |"
        )
    return "\n".join(lines)


def _clean(path: str) -> str:
    # Temporary names carry random letters; the file they become is what matters.
    return re.sub(r"\.[^./]+\.tmp$|/\.tmp\w+$", "", path)


async def _main(write_docs: bool) -> int:
    if shutil.which("strace") is None:
        print("post_faults: strace is not installed (apt-get install strace)", file=sys.stderr)
        return 2
    from tests.conftest import HF_SAMPLE
    from tests.fakes.hf_server import FakeHuggingFace, load_items

    with tempfile.TemporaryDirectory(prefix="paperboy-faults-") as tmp:
        async with FakeHuggingFace(batches={DAY: load_items(HF_SAMPLE)}) as hf:
            points = await kill_at_every_write(hf.base_url, Path(tmp))
    # Only a run that really died tests recovery: a point reached without a kill (the post
    # had finished before the n-th call, or strace missed it) proves nothing about it.
    killed = [p for p in points if p.killed]
    missed = [p for p in points if not p.killed]
    good = sum(p.exactly_once for p in killed)
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    summary = (
        f"A 6-message post (header + {PICKS} picks) makes {len(points)} durable writes. For "
        "each, `paperboy post` is killed by strace's fault injection as it makes that call, "
        f"then run again. The process died by SIGKILL at {len(killed)} of them; every pick "
        f"shown exactly once, header once, at **{good} of {len(killed)}** kills."
    )
    if missed:
        summary += (
            f" {len(missed)} point(s) passed without a kill (that run made fewer such calls "
            "than the dry run and finished; `died` = no below), so they count for nothing: "
            + ", ".join(f"{p.call} #{p.n}" for p in missed) + "."
        )
    report = "\n".join([
        "## Kill -9 at every durable write of a daily post",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; load average "
        f"(1/5/15 min): {load} (shared machine). Command: "
        "`.venv/bin/python bench/post_faults.py`.",
        "",
        summary,
        "",
        table(points),
    ])
    print(report)
    if write_docs:
        write_section(SECTION, report)
    return 0 if killed and good == len(killed) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/")
    args = parser.parse_args()
    return asyncio.run(_main(not args.no_docs))


if __name__ == "__main__":
    sys.exit(main())
