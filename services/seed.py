"""Demo data: the ten slots of v4, its three templates and two demo accounts. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from sqlmodel import select

from services import auth
from services.core import clock, crypto
from services.core.db import bump_board_version, session_scope
from services.core.models import Slot, Template, TemplateSlot, User

# id, service name, tier, category, accent, $/month — v4's production set, in its order.
DEMO_SLOTS: list[tuple[str, str, str, str, str, float]] = [
    ("ppx-1", "Perplexity Max #1", "Max", "РЕСЕРЧ", "#3b82f6", 200),
    ("ppx-2", "Perplexity Max #2", "Max", "РЕСЕРЧ", "#3b82f6", 200),
    ("ppx-3", "Perplexity Max #3", "Max", "РЕСЕРЧ", "#3b82f6", 200),
    ("gem-dt", "Gemini Ultra — Deep Think", "Ultra", "GOOGLE AI", "#4285f4", 250),
    ("nbp", "Nano Banana Pro", "Pro", "GOOGLE AI", "#4285f4", 200),
    ("gem-veo", "Veo + Flow (видео)", "Ultra", "ВИДЕО", "#a855f7", 250),
    ("nb-drive", "NotebookLM + Drive", "Ultra", "GOOGLE AI", "#4285f4", 250),
    ("gpt-1", "ChatGPT Pro — o3-pro", "Pro", "REASONING", "#8b5cf6", 200),
    ("hf-1", "Higgsfield Ultimate", "Ultimate", "ВИДЕО", "#a855f7", 50),
    ("lov-1", "Lovable Team", "Team", "КОД", "#f97316", 50),
]

DEMO_SLOT_URLS = {
    "ppx": "https://www.perplexity.ai/",
    "gem": "https://gemini.google.com/",
    "nbp": "https://gemini.google.com/",
    "nb-": "https://notebooklm.google.com/",
    "gpt": "https://chatgpt.com/",
    "hf-": "https://higgsfield.ai/",
    "lov": "https://lovable.dev/",
}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    name: str
    is_admin: bool
    totp_secret: str | None


DEMO_TEMPLATES = (
    ("🔍", "Ресерч конкурентов", ("ppx-1", "nb-drive")),
    ("🎬", "Создание видео", ("gem-veo", "hf-1")),
    ("📊", "Подготовка презентации", ("gem-dt", "nbp")),
)

DEMO_ADMIN = ("admin", "admin123", "Админ", True)
DEMO_USER = ("anna", "anna1234", "Анна", False)


def demo_slots() -> list[Slot]:
    """The v4 slots as rows, in dashboard order (also used by tests)."""
    return [
        Slot(
            id=slot_id,
            service_name=name,
            tier=tier,
            category=category,
            category_accent=accent,
            monthly_cost=cost,
            url=DEMO_SLOT_URLS.get(slot_id[:3]),
            sort_order=order,
        )
        for order, (slot_id, name, tier, category, accent, cost) in enumerate(DEMO_SLOTS)
    ]


def seed_demo() -> list[DemoAccount]:
    with session_scope() as session:
        for slot in demo_slots():
            if session.get(Slot, slot.id) is None:
                session.add(slot)
        for username, password, name, is_admin in (DEMO_ADMIN, DEMO_USER):
            if session.exec(select(User).where(User.username == username)).first() is None:
                user = User(
                    username=username,
                    name=name,
                    password_hash=auth.hash_password(password),
                    is_admin=is_admin,
                    onboarded=is_admin,
                )
                if is_admin:
                    # The demo admin starts enrolled, so the printed secret is all one needs.
                    user.totp_secret_enc = crypto.encrypt(pyotp.random_base32())
                session.add(user)
        if session.exec(select(Template)).first() is None:
            for icon, name, slot_ids in DEMO_TEMPLATES:
                template = Template(name=name, icon=icon, created_at=clock.now())
                session.add(template)
                session.flush()
                assert template.id is not None
                session.add_all(
                    TemplateSlot(template_id=template.id, slot_id=s, position=i) for i, s in enumerate(slot_ids)
                )
        bump_board_version(session)
    return demo_accounts()


def demo_accounts() -> list[DemoAccount]:
    accounts = []
    with session_scope() as session:
        for username, password, _name, _is_admin in (DEMO_ADMIN, DEMO_USER):
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None:
                continue
            secret = crypto.decrypt(user.totp_secret_enc) if user.totp_secret_enc else None
            accounts.append(DemoAccount(username, password, user.name, user.is_admin, secret))
    return accounts
