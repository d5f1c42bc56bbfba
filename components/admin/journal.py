"""The admin «Журнал» tab: the audit log, filtered by kind of event."""

import reflex as rx

from components.common import data_table
from services.journal import AuditRow
from state.admin import ALL_KINDS, AdminState


def _audit_row(a: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a.at),
        rx.table.cell(rx.badge(a.label, variant="soft")),
        rx.table.cell(a.actor),
        rx.table.cell(a.subject),
        rx.table.cell(a.detail),
        rx.table.cell(a.client_ip),
        data_testid="audit-row",
    )


def journal_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Событие:", size="2", aria_hidden="true"),
            rx.select.root(
                rx.select.trigger(aria_label="Фильтр событий"),
                rx.select.content(
                    rx.select.item("все", value=ALL_KINDS),
                    rx.foreach(AdminState.audit_kinds, lambda o: rx.select.item(o.label, value=o.kind)),
                ),
                value=rx.cond(AdminState.audit_filter == "", ALL_KINDS, AdminState.audit_filter),
                on_change=AdminState.set_audit_filter,
            ),
            align="center",
            spacing="2",
        ),
        data_table(("Время", "Событие", "Кто", "Объект", "Подробности", "IP"), AdminState.audit, _audit_row, "760px"),
        width="100%",
        spacing="3",
    )
