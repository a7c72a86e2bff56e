"""The base of every configuration section (a leaf module: domain settings import it without cycles)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of every configuration section: frozen, unknown keys rejected, one docstring per field."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
