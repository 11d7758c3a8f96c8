"""What an area of the shell exports, and the registry the factory fills from the areas configuration lists."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from flask import Blueprint

from workflow.accounts import User


@dataclass(frozen=True)
class Card:
    """A card an area adds to an application's detail page: its template context, or None to leave it out."""

    name: str
    build: Callable[..., Any]
    position: int


@dataclass(frozen=True)
class NavLink:
    """A link in the page menu, for the readers `shown` admits."""

    endpoint: str
    label: Any
    shown: Callable[[User], bool]
    position: int
    # Where a reader lands after login: the shown link of the lowest `landing` (None: never a landing page).
    landing: int | None = None


@dataclass(frozen=True)
class Area:
    """One room of the shell: its pages and API blueprints, OpenAPI paths and schemas, commands, cards, links."""

    name: str
    pages: Blueprint | None = None
    api: Blueprint | None = None
    openapi_paths: dict[str, Any] = field(default_factory=dict)
    openapi_schemas: dict[str, Any] = field(default_factory=dict)
    commands: tuple[click.Command, ...] = ()
    cards: tuple[Card, ...] = ()
    nav: tuple[NavLink, ...] = ()


def openapi_parts(*parts: Any) -> dict[str, dict[str, Any]]:
    """An area's OpenAPI paths and schemas, merged from its modules' `PATHS` and `SCHEMAS` (Area's keywords)."""
    return {
        "openapi_paths": {path: item for part in parts for path, item in part.PATHS.items()},
        "openapi_schemas": {name: schema for part in parts for name, schema in part.SCHEMAS.items()},
    }


@dataclass
class Shell:
    """The areas one app registered, with their cards and links in explicit order (app.extensions['shell'])."""

    areas: list[Area]
    cards: list[Card] = field(init=False)
    nav: list[NavLink] = field(init=False)

    def __post_init__(self) -> None:
        self.cards = sorted((c for a in self.areas for c in a.cards), key=lambda c: c.position)
        self.nav = sorted((n for a in self.areas for n in a.nav), key=lambda n: n.position)
        names = [c.name for c in self.cards]
        if len(names) != len(set(names)):
            raise RuntimeError(f"two areas add a detail card of the same name: {sorted(names)}")


def load(names: list[str]) -> Shell:
    """Import each configured area package and take its `AREA`."""
    areas = []
    for name in names:
        area = getattr(importlib.import_module(name), "AREA", None)
        if not isinstance(area, Area):
            raise RuntimeError(f"{name} exports no AREA (a web.core.areas.Area)")
        areas.append(area)
    return Shell(areas)
