"""The grammar of channel setup from chat: every value checked once, every refusal one line.

Pure: text in, a typed command or a UserInputError out (bot.commands → bot.channel_grammar).
"""

from __future__ import annotations

import pytest

from bot.channel_grammar import SETTINGS_SYNTAX, ChannelChange, Subscribe, Unsubscribe
from bot.commands import Settings, build_settings, build_subscribe, parse_command
from bot.errors import UserInputError
from tests.conftest import refusal

WEEK = ("mon", "tue", "wed", "thu", "fri")


def change(text: str) -> ChannelChange:
    command = parse_command(f"settings {text}")
    assert isinstance(command, Settings) and command.change is not None
    return command.change


# --- subscribe ---------------------------------------------------------------------------------


def test_bare_subscribe_leaves_every_value_to_the_defaults() -> None:
    assert parse_command("/papers subscribe") == Subscribe()


def test_subscribe_takes_time_timezone_and_days() -> None:
    assert parse_command("subscribe 08:30 Europe/Paris mon-fri") == Subscribe(
        "08:30", "Europe/Paris", WEEK)


def test_subscribe_values_come_in_any_order() -> None:
    assert parse_command("subscribe mon,wed,fri asia/tokyo 7:05") == Subscribe(
        "07:05", "Asia/Tokyo", ("mon", "wed", "fri"))


def test_subscribe_timezone_is_spelt_canonically() -> None:
    assert parse_command("subscribe europe/paris") == Subscribe(timezone="Europe/Paris")


def test_subscribe_days_may_be_separate_words() -> None:
    assert parse_command("subscribe tue thu") == Subscribe(days=("tue", "thu"))


def test_subscribe_with_two_times_is_refused() -> None:
    assert "one time" in str(refusal("subscribe 08:00 09:00"))


def test_unsubscribe_takes_nothing() -> None:
    assert parse_command("unsubscribe") == Unsubscribe()


def test_unsubscribe_with_words_is_refused() -> None:
    assert "takes no arguments" in str(refusal("unsubscribe everything"))


# --- times, timezones, days, top -------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("8:30", "08:30"), ("08:30", "08:30"), ("0830", "08:30"), ("8h30", "08:30"),
    ("23:59", "23:59"), ("0:00", "00:00"),
])
def test_time_forms_become_hh_mm(typed: str, stored: str) -> None:
    assert change(f"time {typed}").time == stored


@pytest.mark.parametrize("typed", ["25:00", "12:60", "noon", "8", "8:3", "-1:00"])
def test_bad_time_is_refused_with_the_form_to_use(typed: str) -> None:
    assert "HH:MM" in str(refusal(f"settings time {typed}"))


def test_time_with_timezone_sets_both() -> None:
    assert change("time 08:30 Europe/Paris") == ChannelChange(time="08:30",
                                                              timezone="Europe/Paris")


def test_unknown_timezone_suggests_the_close_one() -> None:
    assert str(refusal("settings time 08:30 Europe/Pariss")) == \
        "unknown timezone 'Europe/Pariss' (did you mean 'Europe/Paris'?)"


def test_timezone_far_from_any_says_what_a_timezone_looks_like() -> None:
    assert "IANA name" in str(refusal("settings timezone xyzzy"))


@pytest.mark.parametrize(("typed", "days"), [
    ("mon-fri", WEEK),
    ("mon,wed,fri", ("mon", "wed", "fri")),
    ("mon wed fri", ("mon", "wed", "fri")),
    ("weekdays", WEEK),
    ("weekends", ("sat", "sun")),
    ("daily", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
    ("fri-mon", ("mon", "fri", "sat", "sun")),
    ("Monday, Thursday", ("mon", "thu")),
    ("sun,mon", ("mon", "sun")),
])
def test_day_forms_become_days_in_week_order(typed: str, days: tuple[str, ...]) -> None:
    assert change(f"days {typed}").days == days


def test_unknown_day_is_refused() -> None:
    assert "unknown day" in str(refusal("settings days mon-funday"))


@pytest.mark.parametrize("typed", ["0", "21", "-3", "five", "2.5"])
def test_top_outside_1_to_20_is_refused(typed: str) -> None:
    assert str(refusal(f"settings top {typed}")).startswith(
        "top must be a whole number from 1 to 20")


def test_top_in_range_is_taken() -> None:
    assert change("top 20").top_n == 20


# --- keywords and excludes --------------------------------------------------------------------


def test_keywords_add_takes_each_word() -> None:
    assert change("keywords add diffusion video").keywords_add == ("diffusion", "video")


def test_keywords_add_with_commas_takes_phrases() -> None:
    assert change("keywords add diffusion, video generation").keywords_add == (
        "diffusion", "video generation")


def test_quoted_phrase_stays_whole() -> None:
    assert change('keywords add "state space" mamba').keywords_add == ("state space", "mamba")


def test_phone_quotes_count_as_quotes() -> None:
    assert change("exclude add “red teaming”").exclude_add == ("red teaming",)


def test_same_word_twice_is_added_once() -> None:
    assert change("keywords add LLM llm").keywords_add == ("LLM",)


def test_keywords_remove_and_clear() -> None:
    assert (change("keywords remove video").keywords_remove,
            change("keywords clear").keywords_clear) == (("video",), True)


def test_exclude_add_is_its_own_list() -> None:
    assert change("exclude add survey") == ChannelChange(exclude_add=("survey",))


@pytest.mark.parametrize("word", ["<!channel>", "<@U123>", "@everyone", "*bold*", "`code`"])
def test_markup_is_not_a_keyword(word: str) -> None:
    assert "not a plain word" in str(refusal(f"settings keywords add {word}"))


def test_refused_keyword_is_quoted_without_its_mention() -> None:
    assert "<!channel>" not in str(refusal("settings keywords add <!channel>"))


def test_overlong_keyword_is_refused() -> None:
    assert "longer than 60" in str(refusal(f"settings keywords add {'x' * 61}"))


def test_unbalanced_quote_is_refused() -> None:
    assert "unbalanced quote" in str(refusal('settings keywords add "diffusion'))


def test_keywords_without_an_action_explains_the_form() -> None:
    assert "add|remove" in str(refusal("settings keywords diffusion"))


def test_unknown_setting_suggests_the_close_one() -> None:
    assert "did you mean 'keywords'" in str(refusal("settings keywrods add x"))


def test_settings_errors_carry_the_settings_grammar() -> None:
    assert refusal("settings top 99").usage == SETTINGS_SYNTAX


# --- typed options (Discord) ------------------------------------------------------------------


def test_typed_settings_without_options_shows_them() -> None:
    assert build_settings(top=None, time=None) == Settings()


def test_typed_settings_apply_every_option_given() -> None:
    assert build_settings(top=3, keywords_add="diffusion, video", days="weekends") == Settings(
        ChannelChange(top_n=3, keywords_add=("diffusion", "video"), days=("sat", "sun")))


def test_typed_settings_check_values_as_the_text_does() -> None:
    with pytest.raises(UserInputError, match="unknown timezone 'Mars/Base'"):
        build_settings(timezone="Mars/Base")


def test_typed_subscribe_checks_its_time() -> None:
    with pytest.raises(UserInputError, match="HH:MM"):
        build_subscribe(time="25:61")


def test_typed_clear_option_clears_only_that_list() -> None:
    assert build_settings(keywords_clear=True, exclude_clear=False) == Settings(
        ChannelChange(keywords_clear=True))
