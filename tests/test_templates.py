"""Task templates: admins manage them, anyone launches them, a busy slot does not block the rest."""

import pytest
from sqlmodel import select

from services import queue, session_views, sessions, templates
from services.core.db import session_scope
from services.core.errors import Conflict, DomainError, Forbidden, NotFound
from services.core.models import AuditEvent, SlotSession


@pytest.fixture
def research(make_user, demo_slots):
    boss = make_user("boss", admin=True)
    view = templates.save_template(
        boss.id,
        {"name": " Ресерч  конкурентов ", "icon": "🔍", "slot_ids": ["ppx-1", "nb-drive", "gpt-1"]},
        personal=False,
    )
    return boss, view


def test_admin_creates_edits_and_deletes_a_template_with_audit_entries(research):
    boss, view = research
    assert view.name == "Ресерч конкурентов"
    assert view.slot_names == "Perplexity Max #1 + NotebookLM + Drive + ChatGPT Pro — o3-pro"
    edited = templates.save_template(
        boss.id, {"name": "Ресерч", "icon": "💡", "slot_ids": ["nb-drive"], "url": "https://example.org/"}, view.id
    )
    assert (edited.name, edited.icon, edited.slot_ids, edited.url) == (
        "Ресерч",
        "💡",
        ["nb-drive"],
        "https://example.org/",
    )
    assert [t.name for t in templates.list_templates(boss.id)] == ["Ресерч"]
    assert templates.delete_template(boss.id, view.id) == "Ресерч"
    assert templates.list_templates(boss.id) == []
    with session_scope() as session:
        kinds = [e.kind for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert kinds[-3:] == ["template_created", "template_updated", "template_deleted"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "slot_ids": ["ppx-1"]}, "Введите название"),
        ({"name": "x" * 81, "slot_ids": ["ppx-1"]}, "не длиннее 80"),
        ({"name": "A", "icon": "<script>", "slot_ids": ["ppx-1"]}, "иконку"),
        ({"name": "A", "slot_ids": []}, "хотя бы один слот"),
        ({"name": "A", "slot_ids": ["nope-9"]}, "Нет активного слота: nope-9"),
        ({"name": "A", "slot_ids": ["ppx-1"], "url": "javascript:alert(1)"}, "http://"),
        ({"name": "A", "slot_ids": ["ppx-1", "ppx-2", "ppx-3", "nbp", "gpt-1"]}, "не больше 4 слотов"),
        ({"name": "A", "slot_ids": ["../etc"]}, "Слот не найден"),
    ],
)
def test_invalid_templates_are_refused_with_a_clear_message(research, form, message):
    boss, _ = research
    with pytest.raises(DomainError, match=message):
        templates.save_template(boss.id, form, personal=False)
    assert len(templates.list_templates(boss.id)) == 1


def test_regular_users_cannot_create_or_change_shared_templates(research, make_user):
    boss, view = research
    with pytest.raises(Conflict, match="уже есть"):
        templates.save_template(boss.id, {"name": "Ресерч конкурентов", "slot_ids": ["nbp"]}, personal=False)
    anna = make_user("anna")
    with pytest.raises(Forbidden, match="администраторы"):
        templates.save_template(anna.id, {"name": "Общий", "slot_ids": ["nbp"]}, personal=False)
    with pytest.raises(Forbidden):
        templates.save_template(anna.id, {"name": "Чужой", "slot_ids": ["nbp"]}, view.id)
    with pytest.raises(Forbidden):
        templates.delete_template(anna.id, view.id)
    assert templates.get_template(view.id, anna.id).slot_ids == ["ppx-1", "nb-drive", "gpt-1"]


def test_personal_templates_are_their_owners_alone(research, make_user):
    boss, shared = research
    anna, boris = make_user("anna"), make_user("boris")
    # The same name as a shared template, or as someone else's, is fine for a personal one.
    mine = templates.save_template(anna.id, {"name": "Ресерч конкурентов", "icon": "💡", "slot_ids": ["nbp", "hf-1"]})
    theirs = templates.save_template(boris.id, {"name": "Ресерч конкурентов", "slot_ids": ["lov-1"]})
    with pytest.raises(Conflict, match="уже есть"):
        templates.save_template(anna.id, {"name": "Ресерч конкурентов", "slot_ids": ["lov-1"]})
    assert [(t.id, t.owner_id) for t in templates.list_templates(anna.id)] == [(shared.id, None), (mine.id, anna.id)]
    assert theirs.id not in {t.id for t in templates.list_templates(anna.id)}
    for call in (
        lambda: templates.launch(anna.id, theirs.id),
        lambda: templates.save_template(anna.id, {"name": "Взлом", "slot_ids": ["nbp"]}, theirs.id),
        lambda: templates.delete_template(anna.id, theirs.id),
        lambda: templates.get_template(theirs.id, anna.id),
    ):
        with pytest.raises(NotFound, match="Шаблон не найден"):
            call()
    assert templates.launch(anna.id, mine.id).taken == ["nbp", "hf-1"]
    renamed = templates.save_template(anna.id, {"name": "Мой ресерч", "slot_ids": ["nbp"]}, mine.id)
    assert (renamed.name, renamed.owner_id) == ("Мой ресерч", anna.id)
    # Admins see every template with its owner and can remove a personal one.
    everything = {t.id: t.owner_name for t in templates.all_templates(boss.id)}
    assert everything == {shared.id: "", mine.id: "Anna", theirs.id: "Boris"}
    with pytest.raises(Forbidden):
        templates.all_templates(anna.id)
    templates.delete_template(boss.id, theirs.id)
    assert [t.name for t in templates.list_templates(boris.id)] == ["Ресерч конкурентов"]


def test_template_launch_with_one_busy_slot_takes_the_rest_and_offers_the_queue(research, make_user):
    _, view = research
    anna, boris = make_user("anna"), make_user("boris")
    sessions.take_slot(boris.id, "nb-drive")
    result = templates.launch(anna.id, view.id)
    assert result.taken == ["ppx-1", "gpt-1"]
    assert [(s.slot_id, s.queueable) for s in result.skipped] == [("nb-drive", True)]
    assert "Boris" in result.skipped[0].reason
    mine = {w.slot_id for w in session_views.active_sessions_of(anna.id)}
    assert mine == {"ppx-1", "gpt-1"}
    with session_scope() as session:
        assert all(
            w.via_template for w in session.exec(select(SlotSession).where(SlotSession.user_id == anna.id)).all()
        )
    assert queue.join_queue(anna.id, "nb-drive") == 1
    assert templates.get_template(view.id, anna.id).usage_count == 1
    # Launching again while holding them is harmless: the same sessions, nothing new.
    again = templates.launch(anna.id, view.id)
    assert again.taken == ["ppx-1", "gpt-1"]
    assert len(session_views.active_sessions_of(anna.id)) == 2


def test_launch_counts_nothing_when_every_slot_is_busy_and_respects_the_limit(research, make_user, monkeypatch):
    _, view = research
    anna, boris = make_user("anna"), make_user("boris")
    for slot_id in ("ppx-1", "nb-drive", "gpt-1"):
        sessions.take_slot(boris.id, slot_id, via_template=True)
    result = templates.launch(anna.id, view.id)
    assert result.taken == [] and all(s.queueable for s in result.skipped)
    assert templates.get_template(view.id, anna.id).usage_count == 0
    for slot_id in ("ppx-1", "nb-drive", "gpt-1"):
        sessions.release_slot(boris.id, slot_id)
    monkeypatch.setenv("VDI_MAX_TEMPLATE_SLOTS", "2")
    from services.core import settings

    settings.get_settings.cache_clear()
    limited = templates.launch(anna.id, view.id)
    assert limited.taken == ["ppx-1", "nb-drive"]
    assert limited.skipped[0].slot_id == "gpt-1" and not limited.skipped[0].queueable
    assert "не больше 2 слотов" in limited.skipped[0].reason
