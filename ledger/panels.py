"""Panels that apps above the ledger add to the problem page, without the ledger importing them.

An app registers a function from its `AppConfig.ready()`: `register_panel(fn)`, where `fn(request, problem)` returns
`{"template": "app/_panel.html", "context": {...}}`, or None to show nothing on this problem for this user. The
problem page includes each template in the order of registration, with `panel` (the context) and `problem`.
A panel reads only what its viewer may see: the problem it is given is already in the viewer's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from .models import Problem

Panel = dict[str, Any]
PanelFn = Callable[[HttpRequest, Problem], "Panel | None"]

_panels: list[PanelFn] = []


def register_panel(fn: PanelFn) -> PanelFn:
    """Add a panel to the problem page; registering the same function again changes nothing."""
    if fn not in _panels:
        _panels.append(fn)
    return fn


def unregister_panel(fn: PanelFn) -> None:
    if fn in _panels:
        _panels.remove(fn)


def panels_for(request: HttpRequest, problem: Problem) -> list[Panel]:
    """The panels to show on this problem's page, each {"template": ..., "context": {...}}."""
    shown = []
    for fn in _panels:
        panel = fn(request, problem)
        if panel:
            shown.append({"template": panel["template"], "context": panel.get("context") or {}})
    return shown


__all__ = ["Panel", "PanelFn", "panels_for", "register_panel", "unregister_panel"]
