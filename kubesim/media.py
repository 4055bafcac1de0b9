"""Media-type parsing for Accept and Content-Type headers.

Kubernetes encodes the response shape in media-type parameters (``as=Table``,
``as=APIGroupDiscoveryList``), so the server must read parameters, not just the type.
"""

from __future__ import annotations


def media_types(header: str) -> list[tuple[str, dict[str, str]]]:
    """``"a/b;x=1, c/d"`` → ``[("a/b", {"x": "1"}), ("c/d", {})]``, in the client's order."""
    parsed: list[tuple[str, dict[str, str]]] = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = dict(p.partition("=")[::2] for p in pieces[1:] if "=" in p)
        parsed.append((pieces[0].lower(), params))
    return parsed


def content_type(header: str) -> str:
    """The bare media type of a Content-Type header (``application/json``)."""
    types = media_types(header)
    return types[0][0] if types else ""


def wants_table(accept: str) -> bool:
    """Whether `kubectl get` asked for server-side printing (``as=Table`` in Accept)."""
    return any(params.get("as") == "Table" for _, params in media_types(accept))
