"""Operator command line: ``python -m vdi_taxi.manage <command>``.

Works without the web app running; every command goes through services/.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from services import auth, runtime, seed, users
from services.core.db import migrate
from services.core.errors import DomainError
from services.core.settings import SettingsError, get_settings


def _password(args: argparse.Namespace) -> str:
    if args.password:
        return args.password
    first = getpass.getpass("Новый пароль: ")
    if first != getpass.getpass("Повторите пароль: "):
        raise DomainError("Пароли не совпадают")
    return first


def cmd_migrate(_: argparse.Namespace) -> None:
    migrate()
    print("База данных обновлена до последней схемы.")


def cmd_seed_demo(_: argparse.Namespace) -> None:
    migrate()
    seed.seed_demo()
    cmd_demo_info(_)


def cmd_demo_info(_: argparse.Namespace) -> None:
    accounts = seed.demo_accounts()
    if not accounts:
        print("Демо-данные не загружены (python -m vdi_taxi.manage seed-demo).")
        return
    print("Демо-учётные записи:")
    for acc in accounts:
        role = "администратор" if acc.is_admin else "сотрудник"
        line = f"  {acc.username} / {acc.password}  ({acc.name}, {role})"
        if acc.totp_secret:
            line += f"\n    2FA secret: {acc.totp_secret}  (текущий код: {auth.current_code(acc.totp_secret)})"
        else:
            line += "\n    2FA: подключается при первом входе"
        print(line)


def cmd_create_user(args: argparse.Namespace) -> None:
    info = users.create_user(args.username, args.name, _password(args), is_admin=args.admin)
    print(f"Создан пользователь {info.username} ({'администратор' if info.is_admin else 'сотрудник'}).")


def cmd_reset_password(args: argparse.Namespace) -> None:
    users.reset_password(args.username, _password(args))
    print("Пароль изменён, все входы пользователя отозваны.")


def cmd_reset_2fa(args: argparse.Namespace) -> None:
    users.reset_2fa(args.username)
    print("2FA сброшена; при следующем входе пользователь подключит её заново.")


def cmd_deactivate(args: argparse.Namespace) -> None:
    users.set_active(args.username, False)
    print("Пользователь отключён, его входы отозваны.")


def cmd_activate(args: argparse.Namespace) -> None:
    users.set_active(args.username, True)
    print("Пользователь включён.")


def cmd_list_users(_: argparse.Namespace) -> None:
    for u in users.list_users():
        flags = ", ".join(f for f, on in (("admin", u.is_admin), ("2fa", u.has_2fa)) if on)
        print(f"{u.username:<20} {u.name:<30} {flags}")


# How the app process allocates memory. CPython's own small-object allocator can return an arena
# to the system only when every object in it is gone, so after a busy hour (thousands of tabs'
# states created and expired) one survivor per arena keeps the peak for good. With glibc malloc
# and few arenas, the malloc_trim that follows a batch of expired tabs (state/board.py) gives
# the freed pages back. An operator's own values win.
MEMORY_ENV = {"PYTHONMALLOC": "malloc", "MALLOC_ARENA_MAX": "2"}
# `reflex run --env prod --single-port`, its pages compiled in a child process (vdi_taxi/serve.py).
SERVE_ARGS = ["-m", "vdi_taxi.serve"]


def serve_env(base: dict[str, str]) -> dict[str, str]:
    return {**MEMORY_ENV, **base}


def cmd_serve(_: argparse.Namespace) -> None:
    # exec, not a child: the process group, signals and the exit code stay the app's own.
    os.execve(sys.executable, [sys.executable, *SERVE_ARGS], serve_env(dict(os.environ)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vdi_taxi.manage", description="VDI Такси: команды оператора")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="создать или обновить схему базы").set_defaults(func=cmd_migrate)
    sub.add_parser("serve", help="запустить приложение (сборка и сервер)").set_defaults(func=cmd_serve)
    sub.add_parser("seed-demo", help="загрузить демо-слоты и демо-учётки").set_defaults(func=cmd_seed_demo)
    sub.add_parser("demo-info", help="показать демо-учётки и их 2FA").set_defaults(func=cmd_demo_info)
    sub.add_parser("list-users", help="список пользователей").set_defaults(func=cmd_list_users)
    create = sub.add_parser("create-user", help="создать пользователя")
    create.add_argument("username")
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true")
    create.add_argument("--password", help="без флага пароль спрашивается интерактивно")
    create.set_defaults(func=cmd_create_user)
    for name, func, helptext in (
        ("reset-password", cmd_reset_password, "задать новый пароль"),
        ("reset-2fa", cmd_reset_2fa, "сбросить 2FA"),
        ("deactivate", cmd_deactivate, "отключить пользователя"),
        ("activate", cmd_activate, "включить пользователя"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("username")
        if name == "reset-password":
            p.add_argument("--password")
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        get_settings()
        runtime.configure()
        args.func(args)
    except (DomainError, SettingsError) as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
