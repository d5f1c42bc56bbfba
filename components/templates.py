"""Templates: dashboard cards, personal templates and the launch report; the admin «Шаблоны» tab."""

import reflex as rx

from components import theme
from components.common import confirm, data_table, form_dialog
from services.templates import Skipped
from state.templates import SlotOption, TemplateCard, TemplatesState


def _delete_confirm(t: TemplateCard, trigger: rx.Component) -> rx.Component:
    return confirm(
        trigger,
        rx.text("Удалить шаблон «", t.name, "»?"),
        "Слоты и сессии не затрагиваются.",
        TemplatesState.delete_template(t.id),
        confirm_label="Удалить",
    )


def _own_template_tools(t: TemplateCard) -> rx.Component:
    return rx.hstack(
        rx.badge("личный", variant="soft", color_scheme="gray"),
        rx.spacer(),
        rx.icon_button(
            rx.icon("pencil", size=14),
            size="1",
            variant="ghost",
            color_scheme="gray",
            on_click=TemplatesState.edit_template(t.id),
            aria_label="Изменить шаблон",
        ),
        _delete_confirm(
            t,
            rx.icon_button(
                rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red", aria_label="Удалить шаблон"
            ),
        ),
        width="100%",
        align="center",
        spacing="1",
    )


def _template_card(t: TemplateCard) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(t.icon, size="5"),
            rx.text(t.name, weight="medium", size="3"),
            align="center",
            spacing="2",
        ),
        rx.text(t.slot_names, size="1", color=theme.MUTED, flex="1"),
        rx.cond(t.owner_id != 0, _own_template_tools(t)),
        rx.button(
            rx.cond(TemplatesState.launching == t.id, rx.spinner(size="1"), rx.icon("rocket", size=14)),
            "Запустить",
            size="2",
            width="100%",
            disabled=TemplatesState.launching != 0,
            on_click=TemplatesState.launch(t.id),
        ),
        min_width="220px",
        max_width="260px",
        padding="0.8em 0.9em",
        spacing="2",
        style=theme.card_style,
        data_testid="template-card",
    )


def template_cards() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("📋 Шаблоны задач", size="4"),
            rx.button("+ Создать шаблон", size="1", variant="ghost", on_click=TemplatesState.new_personal_template),
            align="center",
            spacing="3",
        ),
        rx.cond(
            TemplatesState.cards.length() > 0,
            rx.fragment(
                rx.text("Запуск занимает все свободные слоты шаблона сразу.", size="2", color=theme.MUTED),
                rx.hstack(
                    rx.foreach(TemplatesState.cards, _template_card),
                    overflow_x="auto",
                    width="100%",
                    spacing="3",
                    padding_bottom="0.25em",
                    align="stretch",
                ),
            ),
            rx.text(
                "Соберите слоты, которые нужны для одной задачи, и занимайте их одной кнопкой.",
                size="2",
                color=theme.MUTED,
            ),
        ),
        _launch_dialog(),
        _editor_dialog(),
        width="100%",
        spacing="2",
    )


def _skipped_row(s: Skipped) -> rx.Component:
    return rx.hstack(
        rx.icon(rx.cond(s.queueable, "clock", "ban"), size=16, color=theme.BUSY, flex_shrink="0"),
        rx.vstack(
            rx.text(s.service_name, weight="medium", size="2"),
            rx.text(s.reason, size="1", color=theme.MUTED),
            spacing="0",
        ),
        align="start",
        spacing="2",
        data_testid="skipped-slot",
    )


def _launch_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Шаблон «", TemplatesState.launch_name, "»"),
            rx.dialog.description(
                rx.cond(
                    TemplatesState.launch_taken.length() > 0,
                    rx.text("Занято слотов: ", TemplatesState.launch_taken.length(), ". Не удалось занять:"),
                    rx.text("Все слоты шаблона заняты:"),
                ),
                size="2",
            ),
            rx.vstack(rx.foreach(TemplatesState.launch_skipped, _skipped_row), spacing="2", margin_y="1em"),
            rx.hstack(
                rx.cond(
                    TemplatesState.queueable_count > 0,
                    rx.button(
                        rx.icon("list-ordered", size=16),
                        "Встать в очередь на занятые",
                        on_click=TemplatesState.queue_for_skipped,
                    ),
                ),
                rx.cond(
                    TemplatesState.launch_taken.length() > 0,
                    rx.button("Открыть сессию", variant="soft", on_click=TemplatesState.open_launched),
                    rx.dialog.close(rx.button("Закрыть", variant="soft", color_scheme="gray")),
                ),
                justify="end",
                spacing="3",
                wrap="wrap",
            ),
            max_width="480px",
        ),
        open=TemplatesState.launch_open,
        on_open_change=TemplatesState.set_launch_open,
    )


# ------------------------------------------------------------------------ admin tab


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
                _delete_confirm(
                    t, rx.button(rx.icon("trash-2", size=14), "Удалить", size="1", variant="soft", color_scheme="red")
                ),
                spacing="2",
            )
        ),
        data_testid="template-row",
    )


def _slot_checkbox(option: SlotOption) -> rx.Component:
    return rx.checkbox(
        option.name,
        checked=TemplatesState.form_slots.contains(option.id),
        on_change=lambda checked: TemplatesState.toggle_form_slot(option.id, checked),
        size="2",
    )


def _label(text: str) -> rx.Component:
    return rx.text(text, size="2", weight="medium")


def _editor_dialog() -> rx.Component:
    return form_dialog(
        rx.cond(
            TemplatesState.form_id == 0,
            rx.cond(TemplatesState.form_personal, "Создать личный шаблон", "Создать общий шаблон"),
            "Редактировать шаблон",
        ),
        TemplatesState.form_error,
        _label("Название"),
        rx.input(name="name", placeholder="Мой шаблон", default_value=TemplatesState.form_name, width="100%"),
        _label("Иконка"),
        rx.segmented_control.root(
            rx.foreach(TemplatesState.icons, lambda i: rx.segmented_control.item(i, value=i)),
            value=TemplatesState.form_icon,
            on_change=TemplatesState.set_form_icon,
            aria_label="Иконка",
        ),
        _label("Слоты"),
        rx.vstack(
            rx.foreach(TemplatesState.slot_options, _slot_checkbox),
            max_height="220px",
            overflow_y="auto",
            spacing="2",
            width="100%",
            padding="0.5em",
            style=theme.card_style,
        ),
        _label("URL (опционально)"),
        rx.input(name="url", placeholder="https://...", default_value=TemplatesState.form_url, width="100%"),
        on_submit=TemplatesState.save_template,
        submit_label=rx.cond(TemplatesState.form_id == 0, "Создать", "Сохранить"),
        open=TemplatesState.form_open,
        on_open_change=TemplatesState.set_form_open,
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
        _editor_dialog(),
        spacing="3",
        width="100%",
    )
