"""Templates: dashboard cards, personal templates, the launch report and the editor (also used by the admin tab)."""

import reflex as rx

from components import theme
from components.common import confirm, form_dialog, labelled_input
from services.templates import Skipped
from state.templates import SlotOption, TemplateCard, TemplatesState


def delete_confirm(t: TemplateCard, trigger: rx.Component) -> rx.Component:
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
        delete_confirm(
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
        editor_dialog(),
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


def _slot_checkbox(option: SlotOption) -> rx.Component:
    return rx.checkbox(
        option.name,
        checked=TemplatesState.form_slots.contains(option.id),
        on_change=lambda checked: TemplatesState.toggle_form_slot(option.id, checked),
        size="2",
    )


def editor_dialog() -> rx.Component:
    return form_dialog(
        rx.cond(
            TemplatesState.form_id == 0,
            rx.cond(TemplatesState.form_personal, "Создать личный шаблон", "Создать общий шаблон"),
            "Редактировать шаблон",
        ),
        TemplatesState.form_error,
        labelled_input(
            "Название", "template-name", name="name", placeholder="Мой шаблон", default_value=TemplatesState.form_name
        ),
        rx.text("Иконка", size="2", weight="medium", aria_hidden="true"),
        rx.segmented_control.root(
            rx.foreach(TemplatesState.icons, lambda i: rx.segmented_control.item(i, value=i)),
            value=TemplatesState.form_icon,
            on_change=TemplatesState.set_form_icon,
            aria_label="Иконка",
        ),
        rx.text("Слоты", id="template-slots-label", size="2", weight="medium"),
        rx.vstack(
            rx.foreach(TemplatesState.slot_options, _slot_checkbox),
            max_height="220px",
            overflow_y="auto",
            spacing="2",
            width="100%",
            padding="0.5em",
            style=theme.card_style,
            role="group",
            aria_labelledby="template-slots-label",
        ),
        labelled_input(
            "URL (опционально)",
            "template-url",
            name="url",
            placeholder="https://...",
            default_value=TemplatesState.form_url,
        ),
        on_submit=TemplatesState.save_template,
        submit_label=rx.cond(TemplatesState.form_id == 0, "Создать", "Сохранить"),
        open=TemplatesState.form_open,
        on_open_change=TemplatesState.set_form_open,
    )
