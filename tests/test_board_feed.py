"""What the board publisher sends: only the cards that changed, nothing for a change nobody can see."""

from __future__ import annotations

import dataclasses

from services.board import CategoryGroup, SlotCard
from state.board import board_diff, board_keys


def _board(*cards: SlotCard) -> list[CategoryGroup]:
    return [CategoryGroup(category="РЕСЕРЧ", accent="#3b82f6", slots=list(cards))]


FREE = SlotCard(id="ppx-1", service_name="Perplexity", tier="Max", category="РЕСЕРЧ", accent="#3b82f6")
OTHER = SlotCard(id="ppx-2", service_name="Perplexity 2", tier="Max", category="РЕСЕРЧ", accent="#3b82f6")


def test_a_take_changes_only_that_card_and_the_version():
    before = board_keys(_board(FREE, OTHER), 1, "")
    busy = dataclasses.replace(FREE, busy=True, occupant_id=7, occupant_name="Анна", session_id=3)
    after = board_keys(_board(busy, OTHER), 2, "")
    diff = board_diff(before, after)
    assert set(diff) == {"c_ppx-1", "v"}
    assert diff["c_ppx-1"]["occupant_name"] == "Анна"
    assert diff["v"] == 2


def test_a_new_version_with_the_same_board_sends_nothing():
    assert board_diff(board_keys(_board(FREE, OTHER), 1, ""), board_keys(_board(FREE, OTHER), 2, "")) == {}


def test_a_slot_that_leaves_the_board_is_cleared_and_the_layout_follows():
    diff = board_diff(board_keys(_board(FREE, OTHER), 1, ""), board_keys(_board(FREE), 2, ""))
    assert diff["c_ppx-2"] is None
    assert diff["ids"] == ["ppx-1"]
    assert diff["layout"] == [{"category": "РЕСЕРЧ", "accent": "#3b82f6", "slots": ["ppx-1"]}]


def test_the_first_board_is_sent_whole():
    keys = board_keys(_board(FREE, OTHER), 5, "Docker недоступен")
    assert board_diff({}, keys) == keys
    assert keys["problem"] == "Docker недоступен"
