"""Label and field selectors, parsed and matched the way kube-apiserver does it.

kubectl passes ``-l`` and ``--field-selector`` through verbatim, so the server alone decides what a
selector means and which text a malformed one earns.  Users and scripts grep those messages
(``unable to parse requirement: ...``, ``field label not supported: ...``), so the parser below
follows ``k8s.io/apimachinery/pkg/labels`` token by token, including its quirks, rather than a
tidier grammar of our own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """A selector the apiserver would reject with 400 BadRequest; ``message`` is its text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- label key and value validation (k8s.io/apimachinery/pkg/util/validation) -------------------

_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = f"{_DNS1123_LABEL_FMT}(\\.{_DNS1123_LABEL_FMT})*"
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_NAME_MAX = 63
_SUBDOMAIN_MAX = 253


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    quoted = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {quoted}regex used for validation is '{fmt}')"


def _qualified_name_errors(key: str) -> list[str]:
    errors: list[str] = []
    parts = key.split("/")
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix) > _SUBDOMAIN_MAX:
                errors.append(f"prefix part must be no more than {_SUBDOMAIN_MAX} characters")
            if not re.fullmatch(_DNS1123_SUBDOMAIN_FMT, prefix):
                errors.append(
                    "prefix part "
                    + _regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com")
                )
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > _NAME_MAX:
        errors.append(f"name part must be no more than {_NAME_MAX} characters")
    if not re.fullmatch(_QUALIFIED_NAME_FMT, name):
        errors.append(
            "name part "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errors


def _label_value_errors(value: str) -> list[str]:
    errors: list[str] = []
    if len(value) > _NAME_MAX:
        errors.append(f"must be no more than {_NAME_MAX} characters")
    if not re.fullmatch(_LABEL_VALUE_FMT, value):
        errors.append(
            _regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errors


def _invalid(path: str, value: str, details: list[str]) -> str:
    """field.Invalid(...).Error(); a nil field path prints as ``<nil>`` in Go."""
    return f'{path}: Invalid value: "{value}": {"; ".join(details)}'


def _aggregate(errors: list[str]) -> str:
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# --- requirements --------------------------------------------------------------------------------

_EXISTS = "exists"
_DOES_NOT_EXIST = "!"
_SET_OPERATORS = ("in", "notin")
_EXACT_OPERATORS = ("=", "==", "!=")
_NUMERIC_OPERATORS = ("gt", "lt")
_BINARY_OPERATORS = ("in", "notin", "=", "==", "!=", "gt", "lt")


@dataclass(frozen=True)
class Requirement:
    """One ``key op values`` term; ``operator`` uses apimachinery's selection.Operator spelling."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    @classmethod
    def build(cls, key: str, operator: str, values: Iterable[str]) -> Requirement:
        """labels.NewRequirement: validate and build, raising the aggregated field errors."""
        vals = tuple(values)
        errors: list[str] = []
        if key_errors := _qualified_name_errors(key):
            errors.append(_invalid("key", key, key_errors))
        if operator in _SET_OPERATORS and not vals:
            errors.append(
                f"values: Invalid value: {_go_list(vals)}: "
                "for 'in', 'notin' operators, values set can't be empty"
            )
        elif operator in _EXACT_OPERATORS and len(vals) != 1:
            errors.append(
                f"values: Invalid value: {_go_list(vals)}: "
                "exact-match compatibility requires one single value"
            )
        elif operator in (_EXISTS, _DOES_NOT_EXIST) and vals:
            errors.append(
                f"values: Invalid value: {_go_list(vals)}: "
                "values set must be empty for exists and does not exist"
            )
        elif operator in _NUMERIC_OPERATORS:
            errors.extend(_numeric_value_errors(vals))
        for index, value in enumerate(vals):
            if value_errors := _label_value_errors(value):
                errors.append(_invalid(f"values[{index}][{key}]", value, value_errors))
        if errors:
            raise SelectorError(_aggregate(errors))
        return cls(key, operator, vals)

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator in ("in", "=", "=="):
            return present and labels[self.key] in self.values
        if self.operator in ("notin", "!="):
            return not present or labels[self.key] not in self.values
        if self.operator == _EXISTS:
            return present
        if self.operator == _DOES_NOT_EXIST:
            return not present
        if not present or not _is_int(labels[self.key]) or not _is_int(self.values[0]):
            return False
        actual, wanted = int(labels[self.key]), int(self.values[0])
        return actual > wanted if self.operator == "gt" else actual < wanted

    def __str__(self) -> str:
        if self.operator == _EXISTS:
            return self.key
        if self.operator == _DOES_NOT_EXIST:
            return "!" + self.key
        joined = ",".join(sorted(self.values)) if len(self.values) > 1 else "".join(self.values)
        if self.operator in _SET_OPERATORS:
            return f"{self.key} {self.operator} ({joined})"
        symbol = {"gt": ">", "lt": "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{joined}"


def _is_int(text: str) -> bool:
    """strconv.ParseInt(text, 10, 64) succeeds; Python's int() would also take "1_0" or " 1"."""
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None and -(2**63) <= int(text) < 2**63


def _go_list(values: tuple[str, ...]) -> str:
    return "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"


def _numeric_value_errors(values: tuple[str, ...]) -> list[str]:
    errors: list[str] = []
    if len(values) != 1:
        errors.append(
            f"values: Invalid value: {_go_list(values)}: "
            "for 'Gt', 'Lt' operators, exactly one value is required"
        )
    for index, value in enumerate(values):
        if not _is_int(value):
            errors.append(
                f'values[{index}]: Invalid value: "{value}": '
                "for 'Gt', 'Lt' operators, the value must be an integer"
            )
    return errors


# --- the label selector lexer and parser (labels.Parse) -----------------------------------------

_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_IDENTIFIER = "identifier"
_END = "end"
_SYMBOL_TOKENS = {
    ")": ")",
    ",": ",",
    "!": "!",
    "==": "==",
    "=": "=",
    ">": "gt",
    "<": "lt",
    "!=": "!=",
    "(": "(",
}
_KEYWORDS = {"in": "in", "notin": "notin"}


@dataclass(frozen=True)
class _Token:
    kind: str
    literal: str


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= len(text):
            tokens.append(_Token(_END, ""))
            return tokens
        if text[pos] in _SPECIAL:
            # Longest run of special characters that still spells a token ("!=" not "!" "=").
            end = pos + 1
            while (
                end < len(text) and text[end] in _SPECIAL and text[pos : end + 1] in _SYMBOL_TOKENS
            ):
                end += 1
            literal = text[pos:end]
            tokens.append(_Token(_SYMBOL_TOKENS[literal], literal))
            pos = end
            continue
        end = pos
        while end < len(text) and text[end] not in _SPECIAL and text[end] not in _WHITESPACE:
            end += 1
        literal = text[pos:end]
        tokens.append(_Token(_KEYWORDS.get(literal, _IDENTIFIER), literal))
        pos = end


class _Parser:
    """labels.Parser: ``in``/``notin`` are plain identifiers wherever a value may stand."""

    def __init__(self, text: str) -> None:
        self._tokens = _lex(text)
        self._position = 0

    def _peek(self, *, as_value: bool = True) -> _Token:
        return self._as(self._tokens[self._position], as_value)

    def _next(self, *, as_value: bool = True) -> _Token:
        token = self._tokens[self._position]
        self._position += 1
        return self._as(token, as_value)

    @staticmethod
    def _as(token: _Token, as_value: bool) -> _Token:
        if as_value and token.kind in _KEYWORDS.values():
            return _Token(_IDENTIFIER, token.literal)
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token = self._peek()
            if token.kind == _END:
                return requirements
            if token.kind not in (_IDENTIFIER, "!"):
                raise SelectorError(
                    f"found '{token.literal}', expected: !, identifier, or 'end of string'"
                )
            try:
                requirements.append(self._requirement())
            except SelectorError as error:
                raise SelectorError(f"unable to parse requirement: {error.message}") from None
            after = self._next()
            if after.kind == _END:
                return requirements
            if after.kind != ",":
                raise SelectorError(f"found '{after.literal}', expected: ',' or 'end of string'")
            following = self._peek()
            if following.kind not in (_IDENTIFIER, "!"):
                raise SelectorError(f"found '{following.literal}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        operator = ""
        token = self._next()
        if token.kind == "!":
            operator = _DOES_NOT_EXIST
            token = self._next()
        if token.kind != _IDENTIFIER:
            raise SelectorError(f"found '{token.literal}', expected: identifier")
        key = token.literal
        if key_errors := _qualified_name_errors(key):
            raise SelectorError(_invalid("<nil>", key, key_errors))
        if self._peek().kind in (_END, ",") and operator != _DOES_NOT_EXIST:
            operator = _EXISTS
        if operator in (_EXISTS, _DOES_NOT_EXIST):
            return Requirement.build(key, operator, ())
        operator_token = self._next(as_value=False)
        if operator_token.kind not in _BINARY_OPERATORS:
            raise SelectorError(
                f"found '{operator_token.literal}', expected: {', '.join(_BINARY_OPERATORS)}"
            )
        operator = operator_token.kind
        values = self._set_values() if operator in _SET_OPERATORS else self._exact_value()
        return Requirement.build(key, operator, sorted(values))

    def _set_values(self) -> set[str]:
        opening = self._next()
        if opening.kind != "(":
            raise SelectorError(f"found '{opening.literal}' expected: '('")
        first = self._peek()
        if first.kind == ")":
            self._next()
            return {""}
        if first.kind not in (_IDENTIFIER, ","):
            raise SelectorError(f"found '{first.literal}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        if self._next().kind != ")":
            # apimachinery reports the first value here, not the offending token.
            raise SelectorError(f"found '{first.literal}', expected: ')'")
        return values

    def _identifier_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            token = self._next()
            if token.kind == _IDENTIFIER:
                values.add(token.literal)
                following = self._peek()
                if following.kind == ",":
                    continue
                if following.kind == ")":
                    return values
                raise SelectorError(f"found '{following.literal}', expected: ',' or ')'")
            if token.kind != ",":
                raise SelectorError(f"found '{token.literal}', expected: ',', or identifier")
            if not values:
                values.add("")
            following = self._peek()
            if following.kind == ")":
                values.add("")
                return values
            if following.kind == ",":
                self._next()
                values.add("")

    def _exact_value(self) -> set[str]:
        if self._peek().kind in (_END, ","):
            return {""}
        token = self._next()
        if token.kind != _IDENTIFIER:
            raise SelectorError(f"found '{token.literal}', expected: identifier")
        return {token.literal}


class LabelSelector:
    """An AND of requirements; ``matches_nothing`` is labels.Nothing() (a nil LabelSelector)."""

    def __init__(self, requirements: Iterable[Requirement], *, matches_nothing: bool = False):
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self.matches_nothing = matches_nothing

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse a ``labelSelector`` query value; the empty string selects everything."""
        return cls(_Parser(text).parse())

    @classmethod
    def from_struct(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """metav1.LabelSelectorAsSelector: None selects nothing, ``{}`` selects everything."""
        if selector is None:
            return cls((), matches_nothing=True)
        requirements = [
            Requirement.build(key, "=", [value])
            for key, value in (selector.get("matchLabels") or {}).items()
        ]
        operators = {"In": "in", "NotIn": "notin", "Exists": _EXISTS, "DoesNotExist": "!"}
        for expression in selector.get("matchExpressions") or []:
            operator = expression.get("operator", "")
            if operator not in operators:
                raise SelectorError(f'"{operator}" is not a valid label selector operator')
            requirements.append(
                Requirement.build(
                    expression.get("key", ""), operators[operator], expression.get("values") or []
                )
            )
        return cls(requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements and not self.matches_nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.matches_nothing:
            return False
        present = labels or {}
        return all(requirement.matches(present) for requirement in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector, as the printers show a selector: ``<none>`` when empty."""
    try:
        text = str(LabelSelector.from_struct(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: ``k=v`` pairs sorted by key, ``<none>`` when there are none."""
    present = labels or {}
    text = ",".join(f"{key}={present[key]}" for key in sorted(present))
    return text or "<none>"


# --- field selectors (k8s.io/apimachinery/pkg/fields) -------------------------------------------

_DEFAULT_FIELDS = ("metadata.name", "metadata.namespace")


def _path(*keys: str) -> Callable[[Mapping[str, Any]], str]:
    def read(obj: Mapping[str, Any]) -> str:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return read


def _first_pod_ip(obj: Mapping[str, Any]) -> str:
    ips = (obj.get("status") or {}).get("podIPs") or []
    if ips:
        return str(ips[0].get("ip", ""))
    return _path("status", "podIP")(obj)


_META = {
    "metadata.name": _path("metadata", "name"),
    "metadata.namespace": _path("metadata", "namespace"),
}
_INVOLVED = {
    f"involvedObject.{name}": _path("involvedObject", name)
    for name in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
}

# kind -> selectable fields; kinds with their own conversion function answer unknown fields with
# "field label not supported", every other kind with the generic metav1 message.
_KIND_FIELDS: dict[str, dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "Pod": {
        **_META,
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "status.phase": _path("status", "phase"),
        "status.podIP": _first_pod_ip,
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    "Event": {
        **_META,
        **_INVOLVED,
        "reason": _path("reason"),
        "reportingComponent": _path("reportingComponent"),
        "source": _path("source", "component"),
        "type": _path("type"),
    },
    "Namespace": {
        "metadata.name": _META["metadata.name"],
        "status.phase": _path("status", "phase"),
    },
    "Node": {
        "metadata.name": _META["metadata.name"],
        "spec.unschedulable": lambda obj: _path("spec", "unschedulable")(obj) or "false",
    },
    "Secret": {**_META, "type": _path("type")},
    "ReplicationController": {**_META, "status.replicas": _path("status", "replicas")},
}

# Old clients still send spec.host for pods; the apiserver rewrites it.
_ALIASES = {("Pod", "spec.host"): "spec.nodeName"}


def _unknown_field_message(kind: str, field: str) -> str:
    if kind in _KIND_FIELDS:
        return f"field label not supported: {field}"
    return f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"'


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    start, escaped = 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for index in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, index):
                return term[:index], operator, term[index + len(operator) :]
    return None


def _unescape(value: str) -> str:
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {char}")
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


@dataclass(frozen=True)
class FieldTerm:
    field: str
    value: str
    negated: bool
    read: Callable[[Mapping[str, Any]], str]

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return (self.read(obj) == self.value) != self.negated


class FieldSelector:
    """An AND of ``field=value`` / ``field!=value`` terms over a kind's selectable fields."""

    def __init__(self, terms: Iterable[FieldTerm]) -> None:
        self.terms = tuple(terms)

    @classmethod
    def parse(cls, text: str, kind: str) -> FieldSelector:
        terms: list[FieldTerm] = []
        fields = _KIND_FIELDS.get(kind, _META)
        for part in sorted(_split_terms(text)) if text else []:
            if not part:
                continue
            split = _split_term(part)
            if split is None:
                raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
            field, operator, raw_value = split
            value = _unescape(raw_value)
            field = _ALIASES.get((kind, field), field)
            if field not in fields:
                raise SelectorError(_unknown_field_message(kind, field))
            terms.append(FieldTerm(field, value, operator == "!=", fields[field]))
        return cls(terms)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(term.matches(obj) for term in self.terms)

    def exact_name(self) -> str | None:
        """The name a ``metadata.name=`` term pins, which lets a watch skip other objects."""
        for term in self.terms:
            if term.field == "metadata.name" and not term.negated:
                return term.value
        return None
