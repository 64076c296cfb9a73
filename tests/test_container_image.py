"""The Docker image, as far as this machine can check it without a Docker engine.

hadolint (installed by the `test` extra) finds nothing in the Dockerfile; the Dockerfile has
the shape the project promises (two stages, the README's install, a non-root user, the data
volume, a HEALTHCHECK in Python); .dockerignore lets through exactly what the build copies;
and the image's command — ENTRYPOINT + CMD with the image's ENV, from the data directory, as
the image runs it — serves a Slack workspace (the fake Web API) in a virtual environment,
passes the image's own HEALTHCHECK command, and stops within 10 s of SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.ports import free_port
from tests.fakes.slack_api import FakeSlack
from tests.scenarios.conftest import CHILD_TIMEOUT, child_environment, config_text

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
BOT_TOKEN = "xoxb-2026061200-0123456789-containerTestValue"
SIGNING_SECRET = "container-test-signing-secret"


def hadolint() -> str:
    beside_python = str(Path(sys.executable).parent)
    found = shutil.which("hadolint", path=beside_python) or shutil.which("hadolint")
    assert found, "hadolint is missing: install the test extra (pip install -e '.[test]')"
    return found


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split at each FROM."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text("utf-8"))
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    out: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            out.append([])
        out[-1].append(line)
    return out


def instruction(stage: list[str], name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in stage if line.split(None, 1)[0].upper() == name]


def final_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in instruction(stages()[-1], "ENV"):
        for pair in shlex.split(line):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


# --- hadolint -------------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    done = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_hadolint_does_report_a_finding(tmp_path: Path) -> None:
    # The check above means something only if this hadolint reports what it finds.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install httpx\n", "utf-8")
    done = subprocess.run([hadolint(), "--no-color", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "DL3007" in done.stdout


# --- the Dockerfile's shape -----------------------------------------------------------------


def test_build_tools_stay_in_the_first_of_two_stages() -> None:
    build, final = stages()
    assert build[0].endswith(" AS build") and "--from=build" in " ".join(instruction(final, "COPY"))


def test_the_install_step_is_pip_install_of_the_project() -> None:
    runs = " ".join(instruction(stages()[0], "RUN"))
    assert 'pip install ".[slack,discord,postgres]"' in runs


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    [user] = instruction(stages()[-1], "USER")
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", user)


def test_data_directory_is_a_volume_and_the_data_path() -> None:
    assert instruction(stages()[-1], "VOLUME") == ['["/data"]']
    assert final_env()["PAPERBOY_DATA"] == "/data"


def test_no_secret_is_baked_into_the_image() -> None:
    names = set(final_env())
    assert not names & {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
                        "DISCORD_TOKEN", "OPENAI_API_KEY"}


def test_healthcheck_uses_python_not_curl() -> None:
    [check] = instruction(stages()[-1], "HEALTHCHECK")
    assert '"python", "-m", "paperboy.healthcheck"' in check and "curl" not in check


def test_dockerignore_lets_through_exactly_what_the_build_copies() -> None:
    copied = {source for line in instruction(stages()[0], "COPY")
              for source in line.split()[:-1]}
    allowed = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")}
    assert copied == allowed


# --- the image's command, run as the image runs it ------------------------------------------


@pytest_asyncio.fixture
async def upstreams() -> AsyncIterator[tuple[FakeHuggingFace, FakeSlack]]:
    async with FakeHuggingFace() as hf, FakeSlack() as slack:
        yield hf, slack


def image_command() -> list[str]:
    final = stages()[-1]
    [entry], [cmd] = instruction(final, "ENTRYPOINT"), instruction(final, "CMD")
    return [*json.loads(entry), *json.loads(cmd)]


def healthcheck_command() -> list[str]:
    [check] = instruction(stages()[-1], "HEALTHCHECK")
    return json.loads(check.split("CMD", 1)[1])


async def test_image_command_serves_passes_its_healthcheck_and_stops_on_sigterm(
    tmp_path: Path, upstreams: tuple[FakeHuggingFace, FakeSlack]
) -> None:
    hf, slack = upstreams
    data, port = tmp_path / "data", free_port()
    data.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(config_text(
        hf_url=hf.base_url, data_dir=tmp_path / "ignored",
        extra=f'\n[slack]\nmode = "http"\nport = {free_port()}\n'
              f"api_url = {json.dumps(slack.api_url)}\n"), "utf-8")
    venv = Path(sys.executable).parent
    env = child_environment({
        **final_env(), "PAPERBOY_DATA": str(data), "PAPERBOY_HEALTH_PORT": str(port),
        "PAPERBOY_CONFIG": str(config), "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    })
    env["PATH"] = f"{venv}:{env.get('PATH', '')}"  # as the image's ENV PATH puts its venv first
    command = image_command()
    process = await asyncio.create_subprocess_exec(
        str(venv / command[0]), *command[1:], cwd=data, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        check = healthcheck_command()
        deadline = time.monotonic() + CHILD_TIMEOUT
        while True:
            probe = await asyncio.create_subprocess_exec(
                str(venv / check[0]), *check[1:], env=env, stdout=asyncio.subprocess.PIPE)
            said, _ = await probe.communicate()
            if probe.returncode == 0:
                break
            assert time.monotonic() < deadline, said.decode()
            await asyncio.sleep(0.2)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.stderr is not None
        err = await asyncio.wait_for(process.stderr.read(), CHILD_TIMEOUT)
        code = await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)
        stopped_in = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert (code, stopped_in < 10) == (130, True)
    # The image logs JSON lines: every line of stderr is one object.
    assert all(json.loads(line)["level"] for line in err.decode().splitlines())
    assert (data / "status.json").is_file()


@pytest.mark.parametrize("name", ["compose.example.yml"])
def test_compose_example_runs_the_image_with_secrets_from_the_environment(name: str) -> None:
    import yaml

    compose = yaml.safe_load((ROOT / name).read_text("utf-8"))
    [service] = compose["services"].values()
    assert service["volumes"][0].endswith(":/data")
    environment = service["environment"]
    assert all(value in (None, "") or str(value).startswith("${")
               for key, value in environment.items()
               if key.endswith(("TOKEN", "SECRET", "KEY")))
