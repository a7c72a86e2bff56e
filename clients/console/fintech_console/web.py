"""What every page shares: rendering with the layout's context, the operator's service clients,
navigation links, page tokens from query strings, and the one-shot flash message.

Page modules import from here, never from ``app``, so there is no import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from fintech.client import FintechError

from fintech_console.auth.middleware import CSRF_FIELD, session_of
from fintech_console.auth.roles import ROLE_TITLES
from fintech_console.auth.sessions import Operator
from fintech_console.services import OperatorServices, Platform, ServiceProblem, describe_problem
from fintech_console.settings import ConsoleSettings


@dataclass(frozen=True)
class NavLink:
    """One navigation entry: shown only to ``roles``."""

    label: str
    path: str
    roles: tuple[str, ...]


def templates_of(request: Request) -> Jinja2Templates:
    """The app's template engine."""
    templates: Jinja2Templates = request.app.state.templates
    return templates


def settings_of(request: Request) -> ConsoleSettings:
    """The app's settings."""
    settings: ConsoleSettings = request.app.state.settings
    return settings


def services_for(request: Request, operator: Operator) -> OperatorServices:
    """SDK clients acting for ``operator`` (their calls carry the staff id and role)."""
    platform: Platform = request.app.state.platform
    return platform.for_operator(operator)


def flash(request: Request, message: str) -> None:
    """Show ``message`` once, on the next page this session renders."""
    session_of(request).flash = message


def redirect(path: str) -> RedirectResponse:
    """A 303 redirect (POST -> GET), for the post/redirect/get pattern of every form."""
    return RedirectResponse(path, status_code=303)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``template`` with the layout's context.

    The layout receives ``operator`` (or None), ``nav`` (only the links the role may use),
    ``csrf_token`` (put ``{{ csrf_field() }}`` in every form), ``flash``, ``role_titles`` and
    ``current_path``; ``context`` adds the page's own values.
    """
    session = session_of(request)
    operator = session.operator
    all_links: tuple[NavLink, ...] = request.app.state.nav
    nav = [link for link in all_links if operator is not None and operator.role in link.roles]
    message, session.flash = session.flash, ""
    values: dict[str, Any] = {
        "operator": operator,
        "nav": nav,
        "csrf_token": session.csrf_token,
        "csrf_field_name": CSRF_FIELD,
        "flash": message,
        "role_titles": ROLE_TITLES,
        "current_path": request.url.path,
        "sign_in": settings_of(request).sign_in,
    }
    values.update(context or {})
    response: HTMLResponse = templates_of(request).TemplateResponse(request, template, values, status_code=status_code)
    return response


def problem_context(error: FintechError) -> dict[str, Any]:
    """Template context for a failed call: ``problem`` (a :class:`ServiceProblem`)."""
    return {"problem": describe_problem(error)}


def render_problem(request: Request, error: FintechError, *, title: str) -> HTMLResponse:
    """The whole page for a failed call: the layout, the service named, the HTTP status matching."""
    problem: ServiceProblem = describe_problem(error)
    return render(request, "problem.html", {"problem": problem, "title": title}, status_code=problem.status_code)


def format_timestamp(value: Any) -> str:
    """A protobuf ``Timestamp`` (or datetime) as ``2026-11-25 12:00:05 UTC``; empty when unset."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value
    else:
        if not value.seconds and not value.nanos:
            return ""
        moment = value.ToDatetime(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_money(value: Any) -> str:
    """A ``fintech.common.v1.Money``-shaped value (units, nanos, currency_code) as ``EUR 1,234.50``."""
    if value is None:
        return ""
    amount = value.units + value.nanos / 1e9
    return f"{value.currency_code} {amount:,.2f}".strip()


def format_duration(seconds: float) -> str:
    """A wait time as ``3 d 4 h``, ``2 h 5 min``, ``7 min`` or ``40 s``."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def page_urls(request: Request, next_page_token: str) -> dict[str, str | None]:
    """``next_page_url`` and ``first_page_url`` for ``partials/pager.html``, keeping the other query parameters.

    Args:
        request: The current request (its query string holds the filters and ``page_token``).
        next_page_token: The service's ``next_page_token`` (empty on the last page).
    """
    params = {key: value for key, value in request.query_params.multi_items() if key != "page_token"}
    base = request.url.path
    first = base + ("?" + urlencode(params) if params else "")
    return {
        "next_page_url": f"{base}?{urlencode({**params, 'page_token': next_page_token})}" if next_page_token else None,
        "first_page_url": first if request.query_params.get("page_token") else None,
    }


def enum_label(enum_type: Any, value: int) -> str:
    """A protobuf enum value for people: ``ESCALATION_REASON_SENSITIVE_INTENT`` -> ``Sensitive intent``.

    Args:
        enum_type: The generated enum wrapper (for example ``customer_pb2.EscalationReason``).
        value: The number.
    """
    try:
        name: str = enum_type.Name(value)
    except ValueError:
        return f"unknown ({value})"
    prefix = ""
    for candidate in enum_type.keys():
        if candidate.endswith("_UNSPECIFIED"):
            prefix = candidate[: -len("UNSPECIFIED")]
            break
    short = name[len(prefix) :] if prefix and name.startswith(prefix) else name
    return short.replace("_", " ").capitalize()


def enum_options(enum_type: Any) -> list[tuple[str, str]]:
    """``(short name, label)`` of every value but UNSPECIFIED, for ``<select>`` filters (``SENSITIVE_INTENT``)."""
    options = []
    prefix = next((k[: -len("UNSPECIFIED")] for k in enum_type.keys() if k.endswith("_UNSPECIFIED")), "")
    for name, number in enum_type.items():
        if name.endswith("_UNSPECIFIED"):
            continue
        options.append((name[len(prefix) :], enum_label(enum_type, number)))
    return options


def enum_value(enum_type: Any, short: str) -> int:
    """The number of ``short`` (``SENSITIVE_INTENT``) in ``enum_type``; 0 (unspecified) for empty or unknown."""
    if not short:
        return 0
    prefix = next((k[: -len("UNSPECIFIED")] for k in enum_type.keys() if k.endswith("_UNSPECIFIED")), "")
    try:
        number: int = enum_type.Value(prefix + short)
    except ValueError:
        return 0
    return number


def now_seconds(request: Request) -> float:
    """The console's clock (seconds since the epoch), for wait times."""
    clock = request.app.state.clock
    return float(clock())
