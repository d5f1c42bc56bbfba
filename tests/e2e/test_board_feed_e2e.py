"""How the live board reaches tabs: small frames to logged-in tabs only, and a fresh board after a gap."""

from __future__ import annotations

from playwright.sync_api import expect

from services import auth, sessions
from state.board import BoardFeed
from state.dashboard import DashboardState
from tests.e2e.conftest import login, shot
from tests.reflex_client import RawClient, board_frames

FEED = BoardFeed.get_full_name()


def test_a_tab_that_was_offline_for_30_seconds_shows_the_current_board_after_it_reconnects(
    live_app, new_context, account
):
    watcher, taker = account("Ольга"), account("Пётр")
    ctx = new_context()
    page = ctx.new_page()
    login(page, live_app.url, watcher)
    card = page.locator("[data-testid=slot-card][data-slot=ppx-3]")
    expect(card).to_have_attribute("data-busy", "false")

    ctx.set_offline(True)
    taker_id = auth.login(taker.username, taker.password).user.id
    sessions.take_slot(taker_id, "ppx-3")
    try:
        # Offline for 30 s is the scenario itself; meanwhile the tab cannot have heard of the take.
        page.wait_for_timeout(30_000)
        expect(card).to_have_attribute("data-busy", "false", timeout=1)
        ctx.set_offline(False)
        expect(card).to_have_attribute("data-busy", "true", timeout=15_000)
        expect(card).to_contain_text("Пётр")
        shot(page, "board-after-offline")
    finally:
        sessions.release_slot(taker_id, "ppx-3")
    expect(card).to_have_attribute("data-busy", "false")


def test_a_socket_that_never_logged_in_gets_no_board_even_when_it_asks_by_hand(live_app, account):
    anonymous = RawClient(live_app.url)
    try:
        anonymous.send(f"{FEED}.join", {})
        # The server answers the join (an empty delta or none); a logged-in one would carry the board.
        watcher = account("Ирина")
        other = RawClient(live_app.url)
        try:
            other.log_in(auth.login(watcher.username, watcher.password).token)
            other.send(f"{FEED}.join", {})
            other.wait_for('"layout"')
        finally:
            other.close()
        holder = account("Глеб")
        holder_id = auth.login(holder.username, holder.password).user.id
        sessions.take_slot(holder_id, "ppx-1")
        sessions.release_slot(holder_id, "ppx-1")
        assert not board_frames(anonymous.received), "an anonymous socket received board data"
        assert all("ppx-1" not in m and "layout" not in m for m in anonymous.received)
    finally:
        anonymous.close()


def test_a_take_reaches_other_tabs_as_one_small_frame_with_only_that_card_and_a_no_op_sends_nothing(live_app, account):
    watcher, taker = account("Нина"), account("Семён")
    tab = RawClient(live_app.url)
    taker_tab = RawClient(live_app.url)
    taker_id = auth.login(taker.username, taker.password).user.id
    try:
        tab.log_in(auth.login(watcher.username, watcher.password).token)
        tab.send(f"{FEED}.join", {})
        tab.wait_for('"layout"')
        taker_tab.log_in(auth.login(taker.username, taker.password).token)
        mark = len(tab.received)
        # Changes nothing on the board: the other tab must hear nothing of it.
        taker_tab.send(f"{DashboardState.get_full_name()}.toggle_favourite", {"slot_id": "lov-1"})
        taker_tab.wait_for("favourites_rx_state_")
        taker_tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "gpt-1"})
        tab.wait_for('"c_gpt-1"', since=mark)
        frames = tab.received[mark:]
        # The first thing the watcher heard after the no-op is the take itself, in one frame.
        assert len(frames) == 1, frames
        assert len(frames[0].encode()) <= 2048
        keys = set(board_frames(tab.received[mark:])[0])
        assert keys == {"c_gpt-1", "v"}, keys
    finally:
        tab.close()
        taker_tab.close()
        sessions.release_slot(taker_id, "gpt-1")
