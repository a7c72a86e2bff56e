"""The start page: what the signed-in operator's role can do here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fintech_console.auth.guard import current_operator
from fintech_console.auth.sessions import Operator
from fintech_console.web import NavLink, render

router = APIRouter()
NAV: tuple[NavLink, ...] = ()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, operator: Annotated[Operator, Depends(current_operator)]) -> HTMLResponse:
    """The operator's pages, with one line on each."""
    return render(request, "home.html", {"title": "Start"})
