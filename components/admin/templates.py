"""The admin «Шаблоны» tab: every template, shared and personal, with its editor."""

import reflex as rx

from components import theme
from components.common import data_table
from components.templates import delete_confirm, editor_dialog
from state.templates import TemplateCard, TemplatesState


def _editor_row(t: TemplateCard) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.hstack(rx.text(t.icon), rx.text(t.name, weight="medium"), spacing="2")),
        rx.table.cell(
            rx.cond(
                t.owner_id == 0, rx.badge("общий", color_scheme="green"), rx.text("личный: ", t.owner_name, size="2")
            )
        ),
        rx.table.cell(rx.cond(t.slot_names != "", t.slot_names, rx.text("нет активных слотов", color=theme.BUSY))),
        rx.table.cell(rx.cond(t.url != "", rx.link(t.url, href=t.url, is_external=True, size="2"), "—")),
        rx.table.cell(t.usage_count),
        rx.table.cell(
            rx.hstack(
                rx.button("✎ Редактировать", size="1", variant="soft", on_click=TemplatesState.edit_template(t.id)),
                delete_confirm(
                    t, rx.button(rx.icon("trash-2", size=14), "Удалить", size="1", variant="soft", color_scheme="red")
                ),
                spacing="2",
            )
        ),
        data_testid="template-row",
    )


def templates_tab() -> rx.Component:
    return rx.vstack(
        rx.button("+ Создать шаблон", on_click=TemplatesState.new_template),
        rx.cond(
            TemplatesState.editor.length() > 0,
            data_table(
                ("Название", "Доступ", "Слоты", "URL", "Использований", "Действия"),
                TemplatesState.editor,
                _editor_row,
                "760px",
            ),
            rx.text("Шаблонов пока нет.", color=theme.MUTED),
        ),
        editor_dialog(),
        spacing="3",
        width="100%",
    )
