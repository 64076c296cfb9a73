"""What each value in config.toml means and how a mistake reads: the key path, then one line
an admin can act on. Secrets are refused without being echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ChannelConfig, load_config
from bot.errors import ConfigError
from tests.config.conftest import SLACK_TOKEN, channel_error, channel_of, error_of, load_text, write

# --- values that are accepted and normalised ------------------------------------------------


def test_full_channel_is_read_as_written(tmp_path: Path) -> None:
    channel = channel_of(
        tmp_path,
        """
        name = "nlp"
        platform = "slack"
        id = "C0123456789"
        team = "T0123456"
        time = "08:30"
        timezone = "Europe/Berlin"
        days = ["mon", "thu"]
        top_n = 7
        min_upvotes = 2
        keywords = ["llm"]
        exclude = ["protein"]
        authors = ["Percy Liang"]
        categories = ["cs.CL", "stat.ML"]
        on_empty = "skip"
        """,
    )
    assert channel == ChannelConfig(
        name="nlp",
        platform="slack",
        id="C0123456789",
        team="T0123456",
        time="08:30",
        timezone="Europe/Berlin",
        days=("mon", "thu"),
        top_n=7,
        min_upvotes=2,
        keywords=("llm",),
        exclude=("protein",),
        authors=("Percy Liang",),
        categories=("cs.CL", "stat.ML"),
        on_empty="skip",
    )


def test_day_names_are_case_insensitive_and_kept_in_week_order(tmp_path: Path) -> None:
    assert channel_of(tmp_path, 'days = ["FRI", "Mon"]\n').days == ("mon", "fri")


def test_single_digit_hour_is_padded(tmp_path: Path) -> None:
    assert channel_of(tmp_path, 'time = "7:05"\n').time == "07:05"


def test_unquoted_toml_time_is_accepted(tmp_path: Path) -> None:
    assert channel_of(tmp_path, "time = 07:45:00\n").time == "07:45"


def test_discord_id_may_be_a_number(tmp_path: Path) -> None:
    channel = channel_of(tmp_path, 'platform = "discord"\nid = 1187654321098765432\n')
    assert channel.id == "1187654321098765432"


def test_discord_team_may_be_a_number(tmp_path: Path) -> None:
    channel = channel_of(tmp_path, 'platform = "discord"\nid = "1"\nteam = 1087654321\n')
    assert channel.team == "1087654321"


def test_old_style_and_hyphenated_arxiv_categories_are_accepted(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[sources.arxiv]\ncategories = ["hep-th", "cond-mat.mes-hall"]')
    assert config.arxiv.categories == ("hep-th", "cond-mat.mes-hall")


def test_integer_timeout_becomes_seconds_as_float(tmp_path: Path) -> None:
    assert load_text(tmp_path, "[sources.huggingface]\ntimeout = 5\n").huggingface.timeout == 5.0


def test_backfill_pauses_two_seconds_between_months_by_default(tmp_path: Path) -> None:
    assert load_text(tmp_path, "").huggingface.backfill_pause == 2.0


def test_backfill_pause_may_be_zero(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[sources.huggingface]\nbackfill_pause = 0\n")
    assert config.huggingface.backfill_pause == 0.0


def test_trailing_slash_is_dropped_from_base_urls(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[sources.huggingface]\nbase_url = "http://127.0.0.1:8080/"\n')
    assert config.huggingface.base_url == "http://127.0.0.1:8080"


def test_summaries_with_base_url_and_model_enable_the_llm_step(tmp_path: Path) -> None:
    config = load_text(
        tmp_path, '[summaries]\nbase_url = "http://localhost:11434/v1"\nmodel = "llama3.2"\n'
    )
    assert config.summaries.llm_enabled is True


def test_top_n_accepts_twenty_five(tmp_path: Path) -> None:
    assert channel_of(tmp_path, "top_n = 25\n").top_n == 25


# --- errors ---------------------------------------------------------------------------------


def test_error_message_starts_with_the_file_path(tmp_path: Path) -> None:
    path = write(tmp_path, "[[channels]]\ntop_n = 0\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert str(info.value).startswith(f"{path}: channels[0].top_n: ")


def test_error_carries_the_key_path_as_an_attribute(tmp_path: Path) -> None:
    path = write(tmp_path, '[[channels]]\nname = "a"\n[[channels]]\ntimezone = "Mars/Base"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.key == "channels[1].timezone"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '[[channels]]\ntimezon = "UTC"\n',
            "channels[0].timezon: unknown key 'timezon' (did you mean 'timezone'?)",
            id="channel-key",
        ),
        pytest.param(
            "[summary]\nmodel = 'x'\n",
            "summary: unknown key 'summary' (did you mean 'summaries'?)",
            id="section",
        ),
        pytest.param(
            "[huggingface]\ntimeout = 5\n",
            "huggingface: unknown key 'huggingface' (did you mean 'sources.huggingface'?)",
            id="section-outside-sources",
        ),
        pytest.param(
            "[sources.arxiv]\ncategory = ['cs.CL']\n",
            "sources.arxiv.category: unknown key 'category' (did you mean 'categories'?)",
            id="arxiv-key",
        ),
        pytest.param(
            "[sources.semantic_scholar]\n",
            "sources.semantic_scholar: unknown key 'semantic_scholar' "
            "(known keys: huggingface, arxiv)",
            id="no-close-match",
        ),
        pytest.param(
            "[storage]\ndir = 'x'\n",
            "storage.dir: unknown key 'dir' (known keys: path, url, lease_seconds)",
            id="storage-key",
        ),
    ],
)
def test_unknown_keys_are_named_with_a_suggestion(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '[[channels]]\ntop_n = "5"\n',
            "channels[0].top_n: expected a whole number, got a string ('5')",
            id="string-for-int",
        ),
        pytest.param(
            "[[channels]]\ntop_n = true\n",
            "channels[0].top_n: expected a whole number, got a boolean (true)",
            id="bool-for-int",
        ),
        pytest.param(
            "[[channels]]\nmin_upvotes = 1.5\n",
            "channels[0].min_upvotes: expected a whole number, got a number (1.5)",
            id="float-for-int",
        ),
        pytest.param(
            "[summaries]\nconcurrency = false\n",
            "summaries.concurrency: expected a whole number, got a boolean (false)",
            id="bool-for-concurrency",
        ),
        pytest.param(
            '[sources.huggingface]\ntimeout = "fast"\n',
            "sources.huggingface.timeout: expected a number of seconds, got a string ('fast')",
            id="string-for-seconds",
        ),
        pytest.param(
            "[sources.arxiv]\ntimeout = true\n",
            "sources.arxiv.timeout: expected a number of seconds, got a boolean (true)",
            id="bool-for-seconds",
        ),
        pytest.param(
            '[[channels]]\nkeywords = "nlp"\n',
            'channels[0].keywords: expected an array of strings like ["a", "b"], '
            "got a string ('nlp')",
            id="string-for-array",
        ),
        pytest.param(
            '[[channels]]\nauthors = ["Ana", 3]\n',
            "channels[0].authors[1]: expected a string, got a number (3)",
            id="number-in-array",
        ),
        pytest.param(
            '[[channels]]\nexclude = ["  "]\n',
            "channels[0].exclude[0]: must not be empty",
            id="blank-in-array",
        ),
        pytest.param(
            "[[channels]]\nname = 7\n",
            "channels[0].name: expected a string, got a number (7)",
            id="number-for-string",
        ),
        pytest.param(
            '[[channels]]\nplatform = "slack"\nid = 123\n',
            "channels[0].id: expected a string, got a number (123)",
            id="number-for-slack-id",
        ),
        pytest.param(
            'storage = "data"\n',
            "storage: expected a table [storage], got a string ('data')",
            id="string-for-section",
        ),
        pytest.param(
            '[channels]\nname = "x"\n',
            "channels: expected [[channels]] tables, got a table",
            id="table-for-channels",
        ),
        pytest.param(
            'channels = ["nlp"]\n',
            "channels[0]: expected a [[channels]] table, got a string ('nlp')",
            id="string-in-channels",
        ),
        pytest.param(
            '[[channels]]\ndays = "mon"\n',
            'channels[0].days: expected an array of days like ["mon", "wed"], '
            "got a string ('mon')",
            id="string-for-days",
        ),
    ],
)
def test_wrong_types_are_named(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"25:00"', 'expected a 24-hour time like "09:00" or "17:30", got \'25:00\''),
        ('"9am"', 'expected a 24-hour time like "09:00" or "17:30", got \'9am\''),
        ('"12:60"', 'expected a 24-hour time like "09:00" or "17:30", got \'12:60\''),
        ('"0900"', 'expected a 24-hour time like "09:00" or "17:30", got \'0900\''),
        ("09:00:30", 'expected whole minutes like "09:00", got 09:00:30'),
    ],
)
def test_bad_times_are_rejected(tmp_path: Path, value: str, message: str) -> None:
    assert channel_error(tmp_path, f"time = {value}\n") == f"channels[0].time: {message}"


def test_unknown_time_zone_in_second_channel_is_named(tmp_path: Path) -> None:
    text = '[[channels]]\nname = "a"\n[[channels]]\nname = "b"\ntimezone = "Mars/Base"\n'
    assert error_of(tmp_path, text) == "channels[1].timezone: unknown time zone 'Mars/Base'"


def test_time_zone_in_wrong_case_suggests_the_real_name(tmp_path: Path) -> None:
    assert channel_error(tmp_path, 'timezone = "europe/berlin"\n') == (
        "channels[0].timezone: unknown time zone 'europe/berlin' (did you mean 'Europe/Berlin'?)"
    )


@pytest.mark.parametrize("value", ['""', '"../etc/passwd"', '"/etc/localtime"'])
def test_time_zone_that_is_not_a_zone_name_is_rejected(tmp_path: Path, value: str) -> None:
    assert channel_error(tmp_path, f"timezone = {value}\n").startswith(
        "channels[0].timezone: unknown time zone"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '["mon", "Funday"]',
            "days[1]: unknown day 'Funday' (use mon, tue, wed, thu, fri, sat, sun)",
        ),
        ('["Monday"]', "days[0]: unknown day 'Monday' (did you mean 'mon'?)"),
        ('["mon", "wed", "MON"]', "days[2]: 'mon' is listed twice"),
        ("[]", "days: must name at least one day (mon, tue, wed, thu, fri, sat, sun)"),
        ('["mon", 2]', 'days[1]: expected a day name like "mon", got a number (2)'),
    ],
)
def test_bad_days_are_rejected(tmp_path: Path, value: str, message: str) -> None:
    assert channel_error(tmp_path, f"days = {value}\n") == f"channels[0].{message}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("top_n = 0\n", "top_n: must be from 1 to 25, got 0"),
        ("top_n = 26\n", "top_n: must be from 1 to 25, got 26"),
        ("min_upvotes = -1\n", "min_upvotes: must be at least 0, got -1"),
        (
            'on_empty = "silent"\n',
            "on_empty: expected one of skip, note, got 'silent'",
        ),
        (
            'platform = "Slack"\nid = "C0123456789"\n',
            "platform: expected one of slack, discord, console, got 'Slack' "
            "(did you mean 'slack'?)",
        ),
        (
            'categories = ["cs CL"]\n',
            "categories[0]: 'cs CL' is not an arXiv category (like cs.CL, stat.ML or hep-th)",
        ),
        (
            'platform = "slack"\n',
            "id: required for a slack channel (its id, like C0123456789)",
        ),
        (
            'platform = "slack"\nid = "#general"\n',
            "id: '#general' is not a Slack channel id (like C0123456789; see channel details)",
        ),
        (
            'platform = "discord"\nid = "papers"\n',
            "id: 'papers' is not a Discord channel id (a number; Copy Channel ID in Discord)",
        ),
        ('name = ""\n', "name: must not be empty"),
        ('team = ""\n', "team: must not be empty (leave it out to use the adapter's own)"),
    ],
)
def test_bad_channel_values_are_rejected(tmp_path: Path, body: str, message: str) -> None:
    assert channel_error(tmp_path, body) == f"channels[0].{message}"


def test_duplicate_channel_names_are_rejected(tmp_path: Path) -> None:
    text = """
        [[channels]]
        name = "nlp"
        [[channels]]
        name = "vision"
        [[channels]]
        name = "nlp"
        """
    assert error_of(tmp_path, text) == (
        "channels[2].name: duplicate channel name 'nlp' (also channels[0])"
    )


def test_same_platform_and_id_twice_is_rejected(tmp_path: Path) -> None:
    text = """
        [[channels]]
        name = "nlp"
        platform = "slack"
        id = "C0123456789"
        [[channels]]
        name = "nlp-again"
        platform = "slack"
        id = "C0123456789"
        """
    assert error_of(tmp_path, text) == (
        "channels[1].id: slack channel 'C0123456789' is configured twice (also channels[0]); "
        "one channel gets one post a day"
    )


def test_console_channels_are_told_apart_by_name(tmp_path: Path) -> None:
    text = '[[channels]]\nname = "nlp"\n[[channels]]\nname = "vision"\n'
    assert [c.id for c in load_text(tmp_path, text).channels] == ["nlp", "vision"]


def test_same_id_on_different_platforms_is_allowed(tmp_path: Path) -> None:
    text = """
        [[channels]]
        name = "a"
        platform = "console"
        id = "123"
        [[channels]]
        name = "b"
        platform = "discord"
        id = "123"
        """
    assert len(load_text(tmp_path, text).channels) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '[sources.huggingface]\nbase_url = "ftp://mirror.example"\n',
            "sources.huggingface.base_url: expected an http:// or https:// URL, "
            "got 'ftp://mirror.example'",
            id="ftp",
        ),
        pytest.param(
            '[sources.arxiv]\nrss_url = "rss.arxiv.org"\n',
            "sources.arxiv.rss_url: expected an http:// or https:// URL, got 'rss.arxiv.org'",
            id="no-scheme",
        ),
        pytest.param(
            '[summaries]\nbase_url = "localhost:11434"\nmodel = "m"\n',
            "summaries.base_url: expected an http:// or https:// URL, got 'localhost:11434'",
            id="host-port",
        ),
        pytest.param(
            '[sources.arxiv]\nbase_url = "https://"\n',
            "sources.arxiv.base_url: expected an http:// or https:// URL, got 'https://'",
            id="no-host",
        ),
    ],
)
def test_base_urls_must_be_http(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text) == message


def test_url_with_credentials_is_rejected_without_echoing_them(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[summaries]\nbase_url = "https://me:hunter2@llm.lan/v1"\n')
    assert "hunter2" not in message


def test_url_with_credentials_names_the_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[summaries]\nbase_url = "https://me:hunter2@llm.lan/v1"\n')
    assert message.startswith("summaries.base_url: must not contain a user name or password")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[sources.huggingface]\ntimeout = 0\n",
            "sources.huggingface.timeout: must be a positive number of seconds, got 0",
            id="zero-timeout",
        ),
        pytest.param(
            "[sources.arxiv]\ntimeout = -1.5\n",
            "sources.arxiv.timeout: must be a positive number of seconds, got -1.5",
            id="negative-timeout",
        ),
        pytest.param(
            "[summaries]\ntimeout = inf\n",
            "summaries.timeout: must be a positive number of seconds, got inf",
            id="infinite-timeout",
        ),
        pytest.param(
            "[summaries]\ntimeout = nan\n",
            "summaries.timeout: must be a positive number of seconds, got nan",
            id="nan-timeout",
        ),
        pytest.param(
            "[sources.huggingface]\nbackfill_pause = -1\n",
            "sources.huggingface.backfill_pause: must be 0 or a positive number of seconds, "
            "got -1",
            id="negative-backfill-pause",
        ),
        pytest.param(
            "[sources.huggingface]\nbackfill_pause = inf\n",
            "sources.huggingface.backfill_pause: must be 0 or a positive number of seconds, "
            "got inf",
            id="infinite-backfill-pause",
        ),
        pytest.param(
            "[summaries]\nconcurrency = 0\n",
            "summaries.concurrency: must be at least 1, got 0",
            id="zero-concurrency",
        ),
    ],
)
def test_non_positive_limits_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text) == message


def test_llm_base_url_without_model_is_rejected(tmp_path: Path) -> None:
    assert error_of(tmp_path, '[summaries]\nbase_url = "http://localhost:11434/v1"\n') == (
        'summaries.model: required when base_url is set (e.g. "gpt-4o-mini", "llama3.2")'
    )


def test_llm_model_without_base_url_is_rejected(tmp_path: Path) -> None:
    assert error_of(tmp_path, '[summaries]\nmodel = "llama3.2"\n') == (
        "summaries.base_url: required when model is set "
        "(the API root, like http://localhost:11434/v1)"
    )


# --- secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[summaries]\napi_key = "abc123"\n', "summaries.api_key"),
        ('[[channels]]\ntoken = "abc123"\n', "channels[0].token"),
        ('[[channels]]\nname = "a"\n[[channels]]\nbot_token = "abc123"\n', "channels[1].bot_token"),
        ('slack_signing_secret = "abc123"\n', "slack_signing_secret"),
        ('[sources.huggingface]\nhf-token = "abc123"\n', "sources.huggingface.hf-token"),
        ('[discord]\npassword = "abc123"\n', "discord.password"),
    ],
)
def test_secret_keys_are_refused_wherever_they_appear(tmp_path: Path, text: str, key: str) -> None:
    assert error_of(tmp_path, text).startswith(f"{key}: secrets never live in the config file")


def test_secret_refusal_points_to_api_key_env(tmp_path: Path) -> None:
    assert "api_key_env" in error_of(tmp_path, '[summaries]\napi_key = "abc123"\n')


def test_secret_refusal_points_to_the_environment(tmp_path: Path) -> None:
    assert "environment variable" in error_of(tmp_path, '[summaries]\napi_key = "abc123"\n')


def test_secret_refusal_never_echoes_the_value(tmp_path: Path) -> None:
    assert "abc123" not in error_of(tmp_path, '[summaries]\napi_key = "abc123"\n')


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (f'[[channels]]\nkeywords = ["{SLACK_TOKEN}"]\n', "channels[0].keywords[0]"),
        (f'[summaries]\napi_key_env = "{SLACK_TOKEN}"\n', "summaries.api_key_env"),
        (f'[[channels]]\nplatform = "slack"\nid = "{SLACK_TOKEN}"\n', "channels[0].id"),
        ('[summaries]\napi_key_env = "sk-proj-abcdefghijklmnopqrstuv"\n', "summaries.api_key_env"),
    ],
)
def test_token_pasted_as_a_value_is_refused(tmp_path: Path, text: str, key: str) -> None:
    assert error_of(tmp_path, text).startswith(f"{key}: this looks like a secret")


def test_token_pasted_as_a_value_is_not_echoed(tmp_path: Path) -> None:
    message = error_of(tmp_path, f'[[channels]]\nkeywords = ["{SLACK_TOKEN}"]\n')
    assert SLACK_TOKEN not in message


def test_api_key_env_must_be_a_variable_name(tmp_path: Path) -> None:
    assert error_of(tmp_path, '[summaries]\napi_key_env = "my key 42"\n') == (
        "summaries.api_key_env: must be the name of an environment variable "
        "(like OPENAI_API_KEY), not the key"
    )


def test_api_key_env_key_itself_is_allowed(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[summaries]\napi_key_env = "GROQ_API_KEY"\n')
    assert config.summaries.api_key_env == "GROQ_API_KEY"


def test_max_tokens_like_keys_are_unknown_not_secret(tmp_path: Path) -> None:
    assert error_of(tmp_path, "[summaries]\nmax_tokens = 200\n").startswith(
        "summaries.max_tokens: unknown key"
    )
