"""Counts shown to people agree with their number: «1 сессия», «4 сессии», «11 сессий»."""

from __future__ import annotations

import pytest

from services import bookings, sessions
from services.core.errors import Conflict
from services.core.plural import form, plural


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (0, "сессий"),
        (1, "сессия"),
        (2, "сессии"),
        (4, "сессии"),
        (5, "сессий"),
        (11, "сессий"),
        (12, "сессий"),
        (14, "сессий"),
        (21, "сессия"),
        (22, "сессии"),
        (25, "сессий"),
        (101, "сессия"),
        (111, "сессий"),
        (1004, "сессии"),
    ],
)
def test_the_word_follows_the_russian_rule_for_every_number(n, word):
    assert form(n, "сессия", "сессии", "сессий") == word
    assert plural(n, "сессия", "сессии", "сессий") == f"{n} {word}"


@pytest.mark.parametrize(
    ("minutes", "label"),
    [
        (30, "30 мин"),
        (60, "1 час"),
        (90, "1,5 часа"),
        (120, "2 часа"),
        (240, "4 часа"),
        (300, "5 часов"),
        (135, "2 ч 15 мин"),
    ],
)
def test_booking_lengths_read_naturally(minutes, label):
    assert bookings.duration_label(minutes) == label


def test_the_one_slot_limit_names_the_slot_held_without_a_dangling_list(make_user, demo_slots):
    anna = make_user("anna")
    sessions.take_slot(anna.id, "ppx-1")
    with pytest.raises(Conflict) as refused:
        sessions.take_slot(anna.id, "nbp")
    assert str(refused.value) == "Вы уже занимаете слот Perplexity Max #1. Освободите его, чтобы занять другой."


def test_slots_held_through_a_template_are_listed_and_all_must_go(make_user, demo_slots):
    anna = make_user("anna")
    for slot_id in ("ppx-1", "nbp"):
        sessions.take_slot(anna.id, slot_id, via_template=True)
    with pytest.raises(Conflict) as refused:
        sessions.take_slot(anna.id, "gpt-1")
    assert str(refused.value) == (
        "Вы уже занимаете слоты: Perplexity Max #1, Nano Banana Pro. Освободите их, чтобы занять другой."
    )
