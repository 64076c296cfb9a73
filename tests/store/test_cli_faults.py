"""The installed `paperboy` command on a damaged, read-only or missing data directory.

Each test runs the real console script as a child process against a fake Hugging Face (the
2026-06-12 sample), damages the data directory for real in between, and checks what the
user sees: one line, the right exit status, nothing posted twice, nothing created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import HF_SAMPLE as SAMPLE
from tests.fakes.disks import fill, read_only_bind, tmpfs
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.fakes.ports import free_port
from tests.scenarios.conftest import DAY, Run, config_text, run_paperboy

CHANNEL = '\n[[channels]]\nname = "console"\nplatform = "console"\n'
LEDGER = "posts/console/console/console/2026-06.json"


@pytest_asyncio.fixture
async def hf() -> AsyncIterator[FakeHuggingFace]:
    async with FakeHuggingFace(batches={DAY: load_items(SAMPLE)}) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, data_dir: Path, hf: FakeHuggingFace) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(hf_url=hf.base_url, data_dir=data_dir, channels=CHANNEL))
    return path


def _configure(path: Path, hf_url: str, data_dir: Path) -> Path:
    path.write_text(config_text(hf_url=hf_url, data_dir=data_dir, channels=CHANNEL))
    return path


async def _paperboy(config: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return await run_paperboy("--config", str(config), *args, cwd=config.parent, env=env)


async def _post(config: Path) -> Run:
    return await _paperboy(config, "post", "--channel", "console", "--date", DAY)


# --- an empty post ledger -----------------------------------------------------------------


async def test_post_after_the_ledger_was_emptied_does_not_post_again(
    config: Path, data_dir: Path
) -> None:
    await _post(config)
    (data_dir / LEDGER).write_bytes(b"")
    again = await _post(config)
    assert "arxiv.org" not in again.stdout


async def test_post_after_the_ledger_was_emptied_fails(config: Path, data_dir: Path) -> None:
    await _post(config)
    (data_dir / LEDGER).write_bytes(b"")
    again = await _post(config)
    assert again.returncode != 0


async def test_post_after_the_ledger_was_emptied_says_where_the_backup_is(
    config: Path, data_dir: Path
) -> None:
    await _post(config)
    (data_dir / LEDGER).write_bytes(b"")
    again = await _post(config)
    assert f"restore from {data_dir / LEDGER}.bak" in again.stderr


async def test_corrupt_ledger_error_is_one_line(config: Path, data_dir: Path) -> None:
    await _post(config)
    (data_dir / LEDGER).write_bytes(b"")
    again = await _post(config)
    assert len(again.stderr.strip().splitlines()) == 1


# --- a garbage paper cache ----------------------------------------------------------------


@pytest.fixture
async def garbage_cache(config: Path, data_dir: Path) -> Path:
    """A data directory whose paper cache shard for June 2026 is garbage."""
    await _paperboy(config, "backfill", "--from", "2026-06", "--to", "2026-06")
    [shard] = (data_dir / "papers").glob("*.json")
    shard.write_bytes(b"garbage")
    return shard


COMMANDS = {
    "digest": ("digest", "--date", DAY),
    "post": ("post", "--channel", "console", "--date", DAY),
    "index rebuild": ("index", "rebuild"),
}


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
async def test_garbage_cache_does_not_stop_a_command(
    args: tuple[str, ...], config: Path, garbage_cache: Path
) -> None:
    run = await _paperboy(config, *args)
    assert run.returncode == 0, run.stderr


async def test_digest_over_a_garbage_cache_shows_every_pick(
    config: Path, garbage_cache: Path
) -> None:
    run = await _paperboy(config, "digest", "--date", DAY, "--json")
    assert len(run.json()) == 5


async def test_garbage_cache_is_kept_beside_for_inspection(
    config: Path, garbage_cache: Path
) -> None:
    await _paperboy(config, "digest", "--date", DAY)
    [kept] = garbage_cache.parent.glob(f"{garbage_cache.name}.corrupt-*")
    assert kept.read_bytes() == b"garbage"


# --- a read-only or missing data directory ------------------------------------------------


@pytest.fixture
async def read_only(config: Path, data_dir: Path) -> AsyncIterator[Path]:
    """A data directory with a finished post and no lock file, mounted read-only."""
    await _post(config)
    (data_dir / "paperboy.lock").unlink()
    with read_only_bind(data_dir):
        yield data_dir


async def test_list_works_on_a_read_only_directory(config: Path, read_only: Path) -> None:
    run = await _paperboy(config, "list")
    assert (run.returncode, run.stderr) == (0, "")


async def test_digest_works_on_a_read_only_directory(config: Path, read_only: Path) -> None:
    run = await _paperboy(config, "digest", "--date", DAY)
    assert (run.returncode, run.stderr) == (0, "")


async def test_reader_leaves_no_lock_file_in_a_read_only_directory(
    config: Path, read_only: Path
) -> None:
    await _paperboy(config, "list")
    assert not (read_only / "paperboy.lock").exists()


async def test_post_refuses_a_read_only_directory_in_one_line(
    config: Path, read_only: Path
) -> None:
    run = await _post(config)
    assert len(run.stderr.strip().splitlines()) == 1


async def test_post_refusal_names_the_read_only_directory(config: Path, read_only: Path) -> None:
    run = await _post(config)
    assert f"data directory {read_only} is read-only" in run.stderr


async def test_post_on_a_read_only_directory_fails(config: Path, read_only: Path) -> None:
    run = await _post(config)
    assert run.returncode != 0


async def test_search_on_a_read_only_directory_finds_an_indexed_paper(
    config: Path, data_dir: Path, read_only: Path
) -> None:
    # Hugging Face unreachable: only the index in the read-only directory can answer.
    _configure(config, f"http://127.0.0.1:{free_port()}", data_dir)
    run = await _paperboy(config, "search", "diffusion", "--json")
    assert "2606.12575" in [row["id"] for row in run.json()], run.stderr


async def test_list_of_a_missing_directory_creates_nothing(
    config: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "new" / "dir"
    await _paperboy(config, "list", env={"PAPERBOY_DATA": str(missing)})
    assert not (tmp_path / "new").exists()


async def test_list_of_a_missing_directory_succeeds(config: Path, tmp_path: Path) -> None:
    missing = tmp_path / "new" / "dir"
    run = await _paperboy(config, "list", env={"PAPERBOY_DATA": str(missing)})
    assert run.returncode == 0, run.stderr


# --- a corrupt team list ------------------------------------------------------------------


async def test_corrupt_team_list_does_not_stop_the_daily_post(
    config: Path, data_dir: Path
) -> None:
    listed = data_dir / "lists/console/console/2606/000.json"
    listed.parent.mkdir(parents=True)
    listed.write_bytes(b"garbage")
    run = await _post(config)
    assert run.stdout.count("arxiv.org/abs/") == 5, run.stderr


async def test_corrupt_team_list_is_reported_by_list(config: Path, data_dir: Path) -> None:
    listed = data_dir / "lists/console/console/2606/000.json"
    listed.parent.mkdir(parents=True)
    listed.write_bytes(b"garbage")
    run = await _paperboy(config, "list")
    assert f"{listed} is corrupt" in run.stderr


# --- a full disk ----------------------------------------------------------------------------


@pytest.fixture
async def full_disk(tmp_path: Path, hf: FakeHuggingFace) -> AsyncIterator[Path]:
    """A directory on a real 8 MB tmpfs holding `data` (a finished post), then filled up."""
    with tmpfs(tmp_path / "mnt") as mount:
        posted = await _post(_configure(mount.parent / "config-full.toml", hf.base_url,
                                        mount / "data"))
        assert posted.returncode == 0, posted.stderr
        fill(mount)
        yield mount


# Exit status as the README documents: 0 when the command needs to write nothing, 1 for a
# storage failure, each with at most one line on stderr.
ON_A_FULL_DISK = {
    "list": (("list",), 0),
    "search": (("search", "diffusion"), 0),
    "digest": (("digest", "--date", DAY), 1),
    "post --force": (("post", "--channel", "console", "--date", DAY, "--force"), 1),
    "index rebuild": (("index", "rebuild"), 1),
}


def _full_disk_config(full_disk: Path, hf: FakeHuggingFace, data: str) -> Path:
    return _configure(full_disk.parent / f"config-{data}.toml", hf.base_url, full_disk / data)


@pytest.mark.parametrize("args,status", ON_A_FULL_DISK.values(), ids=ON_A_FULL_DISK.keys())
async def test_command_on_a_full_disk_exits_as_documented(
    args: tuple[str, ...], status: int, full_disk: Path, hf: FakeHuggingFace
) -> None:
    run = await _paperboy(_full_disk_config(full_disk, hf, "data"), *args)
    assert run.returncode == status, run.stderr


@pytest.mark.parametrize("args,status", ON_A_FULL_DISK.values(), ids=ON_A_FULL_DISK.keys())
async def test_command_on_a_full_disk_says_at_most_one_line(
    args: tuple[str, ...], status: int, full_disk: Path, hf: FakeHuggingFace
) -> None:
    run = await _paperboy(_full_disk_config(full_disk, hf, "data"), *args)
    assert len(run.stderr.strip().splitlines()) <= 1, run.stderr


async def test_search_of_a_fresh_directory_on_a_full_disk_answers_from_hugging_face(
    full_disk: Path, hf: FakeHuggingFace
) -> None:
    run = await _paperboy(_full_disk_config(full_disk, hf, "fresh"), "search", "diffusion",
                          "--json")
    assert "2606.12575" in [row["id"] for row in run.json()], run.stderr


async def test_search_of_a_fresh_directory_on_a_full_disk_says_so_in_one_line(
    full_disk: Path, hf: FakeHuggingFace
) -> None:
    run = await _paperboy(_full_disk_config(full_disk, hf, "fresh"), "search", "diffusion")
    [line] = run.stderr.strip().splitlines()
    assert "searching remote only" in line
