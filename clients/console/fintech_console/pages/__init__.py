"""The console's pages: every router the app includes, and the navigation built from them.

Each page module exposes ``router`` (a FastAPI ``APIRouter``) and ``NAV`` (a tuple of
:class:`fintech_console.web.NavLink`: label, path and the roles that may use it). The base template
shows an operator only the links of their role; each route also guards itself with ``require_role``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from fastapi import APIRouter

from fintech_console.web import NavLink

# The order is the navigation's order. aml and compliance belong to the investigations pages.
PAGE_MODULES: tuple[str, ...] = ("home", "escalations", "loans", "aml", "compliance", "audit", "platform")


@dataclass(frozen=True)
class Pages:
    """The routers to include and the navigation links, in order."""

    routers: tuple[APIRouter, ...]
    nav: tuple[NavLink, ...]


def load_pages(names: tuple[str, ...] = PAGE_MODULES) -> Pages:
    """Import every page module and collect its router and navigation links.

    Raises:
        AttributeError: a module lacks ``router`` or ``NAV`` (the message names it).
    """
    routers: list[APIRouter] = []
    nav: list[NavLink] = []
    for name in names:
        module: ModuleType = importlib.import_module(f"{__name__}.{name}")
        router = getattr(module, "router", None)
        if not isinstance(router, APIRouter):
            raise AttributeError(f"fintech_console.pages.{name} must expose router: APIRouter")
        links = getattr(module, "NAV", None)
        if not isinstance(links, tuple) or not all(isinstance(link, NavLink) for link in links):
            raise AttributeError(f"fintech_console.pages.{name} must expose NAV: tuple[NavLink, ...]")
        routers.append(router)
        nav.extend(links)
    return Pages(tuple(routers), tuple(nav))
