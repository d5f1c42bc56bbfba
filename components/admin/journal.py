"""The admin «Журнал» tab: the audit log, filtered by kind of event."""

import reflex as rx

from components.common import data_table
from services.journal import AuditRow
from state.admin import AdminState


def _audit_row(a: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a.at),
        rx.table.cell(rx.badge(a.kind, variant="soft")),
        rx.table.cell(a.actor),
        rx.table.cell(a.subject),
        rx.table.cell(a.detail),
        rx.table.cell(a.client_ip),
        data_testid="audit-row",
    )


def journal_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Событие:", size="2"),
            rx.select(
                AdminState.audit_kinds,
                value=rx.cond(AdminState.audit_filter == "", "все", AdminState.audit_filter),
                on_change=AdminState.set_audit_filter,
                aria_label="Фильтр событий",
            ),
            align="center",
            spacing="2",
        ),
        data_table(("Время", "Событие", "Кто", "Объект", "Подробности", "IP"), AdminState.audit, _audit_row, "760px"),
        width="100%",
        spacing="3",
    )
