"""Which browser tabs are connected to the Reflex backend (a live feed stops when its tab is gone).

The app module hands its `rx.App` over with `watch(app)` once it has built it. The state asks
`tab_connected(token)` and never imports the app: the app imports every page, and every page
imports the state, so imports point one way (app → pages → state → presence).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class _Namespace(Protocol):
    @property
    def token_to_sid(self) -> Mapping[str, str]: ...


class _App(Protocol):
    @property
    def event_namespace(self) -> _Namespace | None: ...


_app: _App | None = None


def watch(app: _App) -> None:
    """The running app, whose websocket namespace knows the connected tabs."""
    global _app
    _app = app


def tab_connected(client_token: str) -> bool:
    """Whether a browser tab with this client token is connected; True when it cannot tell."""
    try:
        namespace = _app.event_namespace if _app is not None else None
    except AttributeError:
        return True  # cannot tell: keep following
    if namespace is None or not client_token:
        return True  # cannot tell: keep following
    return client_token in namespace.token_to_sid
