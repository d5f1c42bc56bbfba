"""Telegram through the real python-telegram-bot client against a local Bot API server."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import select

from services import analytics, bookings, runtime, scheduler, session_views, sessions
from services.core import clock, outbox
from services.core.db import session_scope
from services.core.models import AuditEvent, Notification, User
from services.core.settings import SettingsError, load_settings
from services.telegram import delivery, linking, worker
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token"


@pytest.fixture
def tg(monkeypatch):
    server = FakeTelegram(TOKEN).start()
    monkeypatch.setenv("VDI_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("VDI_TELEGRAM_API_URL", server.base_url)
    monkeypatch.setenv("VDI_TELEGRAM_FILE_URL", server.file_url)
    runtime.reset()
    yield server
    server.stop()


def _pump(rounds: int = 1) -> None:
    """What the worker does each beat: read updates, deliver the outbox."""

    async def run() -> None:
        bot = delivery.make_bot()
        async with bot:
            for _ in range(rounds):
                await worker.poll_once(bot)
                await delivery.deliver_due(bot)

    asyncio.run(run())


def _link(tg: FakeTelegram, user_id: int, chat_id: int) -> None:
    code = linking.create_link_code(user_id).code
    tg.push_message(chat_id, f"/start {code}")
    _pump()


def test_linking_with_a_one_time_code(tg, make_user):
    anna = make_user("anna")
    code = linking.create_link_code(anna.id).code
    tg.push_message(1001, "/start WRONGCODE")
    tg.push_message(1001, f"/start {code}")
    tg.push_message(2002, f"/start {code}")  # the same code again, from another chat
    _pump()
    assert "Код не подошёл" in tg.messages_to(1001)[0].text
    assert tg.messages_to(1001)[1].text.startswith("✅ Аккаунт привязан!\nИмя: Anna")
    assert "Код не подошёл" in tg.messages_to(2002)[0].text
    assert linking.user_for_chat(1001).id == anna.id


def test_link_codes_carry_at_least_40_bits_and_are_easy_to_type(make_user):
    anna = make_user("anna")
    codes = {linking.create_link_code(anna.id).code for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) >= 10 and set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    # Typed in lower case with a space, it still works.
    code = linking.create_link_code(anna.id).code
    assert linking.link_chat(f"{code[:5].lower()} {code[5:]}", 3003).id == anna.id


def test_a_chat_guessing_codes_must_wait_after_five_wrong_ones(tg, make_user):
    anna = make_user("anna")
    code = linking.create_link_code(anna.id).code
    for n in range(5):
        tg.push_message(1001, f"/start GUESS{n:05d}")
    tg.push_message(1001, f"/start {code}")  # even the right code waits now
    tg.push_message(2002, "/start ANOTHERONE")  # other chats are not affected
    _pump()
    replies = [m.text for m in tg.messages_to(1001)]
    assert all("Код не подошёл" in r for r in replies[:5])
    assert "Подождите" in replies[5]
    assert linking.user_for_chat(1001) is None
    assert "Код не подошёл" in tg.messages_to(2002)[0].text
    clock.freeze(clock.now() + timedelta(minutes=16))
    tg.push_message(1001, f"/start {linking.create_link_code(anna.id).code}")
    _pump()
    assert tg.messages_to(1001)[-1].text.startswith("✅ Аккаунт привязан!")


def test_an_expired_code_is_refused(tg, make_user):
    anna = make_user("anna")
    code = linking.create_link_code(anna.id).code
    clock.freeze(clock.now() + timedelta(minutes=16))
    tg.push_message(1001, f"/start {code}")
    _pump()
    assert "устарел" in tg.messages_to(1001)[0].text
    assert linking.user_for_chat(1001) is None


def test_a_chat_controls_only_the_account_that_linked_it_last(tg, make_user):
    anna, boris = make_user("anna"), make_user("boris")
    _link(tg, anna.id, 1001)
    _link(tg, boris.id, 1001)
    assert linking.user_for_chat(1001).id == boris.id
    with session_scope() as session:
        assert session.get(User, anna.id).telegram_chat_id is None
    tg.push_message(1001, "/unlink")
    _pump()
    assert linking.user_for_chat(1001) is None


def test_status_lists_session_bookings_and_queues(tg, make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    _link(tg, anna.id, 1001)
    sessions.take_slot(anna.id, "nbp")
    sessions.take_slot(boris.id, "ppx-1")
    from services import queue

    queue.join_queue(anna.id, "ppx-1")
    day = (clock.local(clock.now()) + timedelta(days=1)).date().isoformat()
    bookings.create_booking(anna.id, "gpt-1", day, "12:00", 60)
    tg.push_message(1001, "/status")
    _pump()
    text = tg.messages_to(1001)[-1].text
    assert "🟢 Активная сессия\nСлот: Nano Banana Pro" in text
    assert "ChatGPT Pro — o3-pro" in text and "ppx-1: позиция 1" in text


def test_admin_commands_are_refused_to_regular_users_and_work_for_admins(tg, make_user, demo_slots):
    anna, boss = make_user("anna"), make_user("boss", admin=True)
    _link(tg, anna.id, 1001)
    _link(tg, boss.id, 9009)
    sessions.take_slot(anna.id, "nbp")
    for command in ("/health", "/stats", "/kick anna", "/release nbp", "/restart nbp"):
        tg.push_message(1001, command)
    _pump()
    replies = [m.text for m in tg.messages_to(1001)[1:]]
    assert replies == ["⛔ Только для администраторов."] * 5
    assert session_views.my_session_on_slot(anna.id, "nbp").ended_at is None
    tg.push_message(9009, "/stats")
    tg.push_message(9009, "/kick anna")
    _pump()
    stats, kick = (m.text for m in tg.messages_to(9009)[1:3])
    assert stats.startswith("📊 Статистика за неделю\nВсего сессий: 1")
    assert "📈 По слотам:\nnbp: 1 сессия, 0.0 ч" in stats
    assert kick == "✅ Пользователь anna отключён от: nbp."
    assert session_views.active_sessions_of(anna.id) == []


def test_every_notification_kind_reaches_the_linked_chat(tg, make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    _link(tg, anna.id, 1001)
    now = clock.now()
    clock.freeze(now)
    # A queue offer, a session near its limit, then the dump of that session.
    work = sessions.take_slot(anna.id, "ppx-3")
    sessions.take_slot(boris.id, "ppx-1")
    from services import queue

    queue.join_queue(anna.id, "ppx-1")
    sessions.release_slot(boris.id, "ppx-1")
    scheduler.run_due(now + timedelta(minutes=176))
    _pump()
    texts = [m.text for m in tg.messages_to(1001)]
    assert any(t.startswith("🟢 Слот освободился!") for t in texts)
    assert any(t.startswith("⏳ Сессия скоро закончится") for t in texts)
    sessions.release_slot(anna.id, "ppx-3")
    _pump()
    docs = [m for m in tg.messages_to(1001) if m.method == "sendDocument"]
    assert docs and docs[-1].filename.startswith("vdi-taxi-ppx-3-") and docs[-1].filename.endswith(".zip")
    assert any(
        t.startswith("🔚 Сессия завершена\nСлот: Perplexity Max #3") for t in (m.text for m in tg.messages_to(1001))
    )
    assert session_views.get_session(work.id).end_reason == "manual"


def test_telegram_errors_delay_messages_and_lose_none(tg, make_user):
    anna = make_user("anna")
    _link(tg, anna.id, 1001)
    outbox.enqueue(anna.id, "test", "первое", "t1")
    tg.fail_next = 1
    _pump()
    with session_scope() as session:
        note = session.exec(select(Notification).where(Notification.dedupe_key == "t1")).one()
    assert note.status == "pending" and note.attempts == 1 and "Bad Gateway" in note.last_error
    assert not [m for m in tg.messages_to(1001) if m.text == "первое"]
    # Telegram entirely unreachable: still nothing lost.
    tg.stop()
    clock.freeze(clock.now() + timedelta(minutes=1))
    outbox.enqueue(anna.id, "test", "второе", "t2")
    _pump_quietly()
    tg.start(port=tg.port)
    clock.freeze(clock.now() + timedelta(minutes=5))
    _pump()
    texts = [m.text for m in tg.messages_to(1001)]
    assert texts.count("первое") == 1 and texts.count("второе") == 1


def _pump_quietly() -> None:
    async def run() -> None:
        bot = delivery.make_bot()
        await delivery.deliver_due(bot)

    asyncio.run(run())


def test_a_blocked_bot_is_recorded_and_not_retried(tg, make_user):
    anna = make_user("anna")
    _link(tg, anna.id, 1001)
    tg.blocked_chats.add(1001)
    outbox.enqueue(anna.id, "test", "привет", "b1")
    _pump()
    with session_scope() as session:
        note = session.exec(select(Notification).where(Notification.dedupe_key == "b1")).one()
        user = session.get(User, anna.id)
    assert note.status == "failed" and "blocked" in note.last_error
    assert "blocked" in user.telegram_error
    assert delivery.delivery_status(anna.id, "b1").label == "Ошибка отправки"


def test_two_workers_never_send_a_message_twice(tg, make_user):
    anna = make_user("anna")
    _link(tg, anna.id, 1001)
    for i in range(10):
        outbox.enqueue(anna.id, "test", f"сообщение {i}", f"m{i}")

    async def both() -> None:
        bot_a, bot_b = delivery.make_bot(), delivery.make_bot()
        async with bot_a, bot_b:
            await asyncio.gather(delivery.deliver_due(bot_a), delivery.deliver_due(bot_b))

    asyncio.run(both())
    texts = [m.text for m in tg.messages_to(1001) if m.text.startswith("сообщение")]
    assert sorted(texts) == sorted(f"сообщение {i}" for i in range(10))


def test_without_a_token_nothing_is_sent_and_messages_wait(make_user, monkeypatch):
    monkeypatch.delenv("VDI_TELEGRAM_TOKEN", raising=False)
    runtime.reset()
    assert not linking.configured()
    asyncio.run(worker.run_worker())  # returns at once, says so in the log
    anna = make_user("anna")
    outbox.enqueue(anna.id, "test", "ждёт", "w1")
    with session_scope() as session:
        assert session.exec(select(Notification).where(Notification.dedupe_key == "w1")).one().status == "pending"


def test_the_dump_zip_matches_the_session(tg, make_user, demo_slots):
    anna = make_user("anna")
    _link(tg, anna.id, 1001)
    work = sessions.take_slot(anna.id, "gpt-1")
    sessions.release_slot(anna.id, "gpt-1")
    _pump()
    doc = next(m for m in tg.messages_to(1001) if m.method == "sendDocument")
    import io

    with zipfile.ZipFile(io.BytesIO(doc.content)) as zf:
        names = set(zf.namelist())
        index = zf.read("index.html").decode()
        meta = zf.read("meta.json").decode()
    assert {"index.html", "pages.csv", "meta.json"} <= names
    assert "ChatGPT Pro — o3-pro" in index and "https://chatgpt.com/" in index
    assert f'"session_id": {work.id}' in meta and "скриншот (демо-комната)" in meta


def test_a_poison_update_is_recorded_and_skipped_and_the_next_messages_arrive(tg, make_user, monkeypatch):
    anna, boss = make_user("anna"), make_user("boss", admin=True)
    _link(tg, anna.id, 1001)
    _link(tg, boss.id, 9009)
    # An update the client library cannot even parse, then a command whose handler raises.
    with tg.lock:
        tg.updates.append({"update_id": tg.next_update_id, "message": {"text": "/help", "chat": "not-a-chat"}})
        tg.next_update_id += 1

    def broken() -> str:
        raise RuntimeError("report store is down")

    monkeypatch.setattr(analytics, "weekly_text", broken)
    tg.push_message(9009, "/stats")
    tg.push_message(1001, "/help")
    outbox.enqueue(anna.id, "test", "после сбоя", "after-poison")
    _pump(rounds=3)
    after = [m.text for m in tg.messages_to(1001)[1:]]
    assert "после сбоя" in after and any(t.startswith("📖 Команды VDI Такси") for t in after)
    boss_texts = [m.text for m in tg.messages_to(9009)]
    assert boss_texts.count("⚠️ Не получилось выполнить команду. Администраторы уже знают, попробуйте позже.") == 1
    # Each failing update is reported to the admins once, however many cycles pass.
    alerts_sent = [t for t in boss_texts if t.startswith("🚨 Алерт\nБот не смог обработать сообщение")]
    assert len(alerts_sent) == 2 and "report store is down" in alerts_sent[1]
    with session_scope() as session:
        failed = session.exec(select(AuditEvent).where(AuditEvent.kind == "telegram_update_failed")).all()
    assert len(failed) == 2


def test_bot_kick_and_restart_leave_the_same_audit_entries_as_the_web_panel(tg, make_user, demo_slots):
    anna, boss = make_user("anna"), make_user("boss", admin=True)
    _link(tg, boss.id, 9009)
    sessions.take_slot(anna.id, "nbp")
    tg.push_message(9009, "/kick anna")
    tg.push_message(9009, "/restart nbp")
    _pump()
    kick, restart = (m.text for m in tg.messages_to(9009)[1:3])
    assert kick == "✅ Пользователь anna отключён от: nbp."
    # Demo rooms have no container: a clear refusal in Russian, not an error.
    assert restart == "✅ Демо-комната: у неё нет контейнера, действие не нужно"
    with session_scope() as session:
        kicked = session.exec(select(AuditEvent).where(AuditEvent.kind == "user_kicked")).one()
    assert (kicked.actor_id, kicked.subject, kicked.detail, kicked.client_ip) == (boss.id, "anna", "nbp", "telegram")


def test_the_profile_names_the_bot_that_getme_reported(tg, make_user, database):
    anna = make_user("anna")
    assert linking.link_state(anna.id).bot == ""  # not started yet: the profile says «боту VDI Такси»

    async def start_worker_once() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run_worker(interval=0.05, stop=stop))
        for _ in range(200):
            if await asyncio.to_thread(linking.bot_username):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(start_worker_once())
    assert linking.link_state(anna.id).bot == "vdi_taxi_test_bot"
    code = linking.create_link_code(anna.id).code
    assert linking.bot_url("vdi_taxi_test_bot", code) == f"https://t.me/vdi_taxi_test_bot?start={code}"
    assert linking.bot_url("vdi_taxi_test_bot") == "https://t.me/vdi_taxi_test_bot"


def test_an_operator_may_name_the_bot_and_a_bad_name_is_refused(tg, monkeypatch, database):
    monkeypatch.setenv("VDI_TELEGRAM_BOT_USERNAME", "@company_taxi_bot")
    runtime.reset()
    assert linking.bot_username() == "company_taxi_bot"
    linking.remember_bot("javascript:alert(1)")  # never stored, never linked to
    monkeypatch.setenv("VDI_TELEGRAM_BOT_USERNAME", "")
    runtime.reset()
    assert linking.bot_username() == ""
    monkeypatch.setenv("VDI_TELEGRAM_BOT_USERNAME", "bad name!")
    with pytest.raises(SettingsError, match="VDI_TELEGRAM_BOT_USERNAME"):
        load_settings()
