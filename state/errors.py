"""What a person sees when an event handler fails with an error nobody caught: Russian, never a trace."""

import logging

import reflex as rx
from reflex.event import EventSpec

from services.core.errors import DomainError

log = logging.getLogger(__name__)
UNEXPECTED = "Что-то пошло не так. Попробуйте ещё раз; если ошибка повторится, сообщите администратору."


def backend_error(exception: Exception) -> EventSpec:
    """Reflex's backend exception handler: a refused or impossible request (for example the
    database is restarting) keeps its own message; anything else gets a general one."""
    if isinstance(exception, DomainError):
        return rx.toast.error("Не удалось выполнить действие", description=exception.message, id="backend_error")
    log.error("unhandled error in an event handler", exc_info=exception)
    return rx.toast.error("Ошибка", description=UNEXPECTED, id="backend_error")
