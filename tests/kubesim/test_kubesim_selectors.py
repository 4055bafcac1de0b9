"""kubesim.selectors: label and field selectors with kube-apiserver's grammar and error texts."""

from __future__ import annotations

import pytest

from kubesim.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    format_label_selector,
    format_labels,
)

WEB = {"app": "web", "tier": "front", "track": "stable"}
DB = {"app": "db", "tier": "back"}
BARE: dict[str, str] = {}


@pytest.mark.parametrize(
    ("text", "matching"),
    [
        ("", [WEB, DB, BARE]),
        ("app=web", [WEB]),
        ("app==web", [WEB]),
        ("app!=web", [DB, BARE]),
        ("app in (web,db)", [WEB, DB]),
        ("app notin (web)", [DB, BARE]),
        ("track", [WEB]),
        ("!track", [DB, BARE]),
        ("app=web,tier=back", []),
        ("  app = web ,  tier in ( front , x )  ", [WEB]),
        ("app in (web),!track", []),
        ("tier=", []),
    ],
)
def test_label_selector_query_strings(text: str, matching: list[dict[str, str]]) -> None:
    selector = LabelSelector.parse(text)

    assert [labels for labels in (WEB, DB, BARE) if selector.matches(labels)] == matching


def test_in_and_notin_are_plain_values_inside_a_value_list() -> None:
    assert LabelSelector.parse("word in (in,notin)").matches({"word": "notin"})


def test_numeric_gt_lt_compare_integers_only() -> None:
    selector = LabelSelector.parse("replicas>2")

    assert selector.matches({"replicas": "3"})
    assert not selector.matches({"replicas": "2"})
    assert not selector.matches({"replicas": "three"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app in web", "unable to parse requirement: found 'web' expected: '('"),
        (
            "app web",
            "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("app=web,", "found '', expected: identifier after ','"),
        ("app=web extra", "found 'extra', expected: ',' or 'end of string'"),
        ("=web", "found '=', expected: !, identifier, or 'end of string'"),
        ("app in (web", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("!app=web", "found '=', expected: ',' or 'end of string'"),
    ],
)
def test_malformed_label_selectors_give_the_apiserver_text(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as raised:
        LabelSelector.parse(text)

    assert raised.value.message == message


def test_invalid_key_and_value_errors_name_the_rule() -> None:
    with pytest.raises(SelectorError) as bad_key:
        LabelSelector.parse("-app=web")
    with pytest.raises(SelectorError) as bad_value:
        LabelSelector.parse("app=we$b")

    assert bad_key.value.message.startswith(
        'unable to parse requirement: <nil>: Invalid value: "-app": name part must consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    )
    assert bad_value.value.message.startswith(
        'unable to parse requirement: values[0][app]: Invalid value: "we$b": a valid label must '
    )


def test_label_selector_struct_as_deployments_use_it() -> None:
    selector = LabelSelector.from_struct(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )

    assert selector.matches(WEB)
    assert not selector.matches({**WEB, "canary": "yes"})
    assert str(selector) == "app=web,!canary,tier in (edge,front)"


def test_empty_struct_selects_everything_and_none_selects_nothing() -> None:
    assert LabelSelector.from_struct({}).matches(DB)
    assert not LabelSelector.from_struct(None).matches(DB)


def test_struct_with_unknown_operator_is_rejected() -> None:
    with pytest.raises(SelectorError, match='"Near" is not a valid label selector operator'):
        LabelSelector.from_struct({"matchExpressions": [{"key": "a", "operator": "Near"}]})


def test_selector_strings_as_printers_show_them() -> None:
    assert format_label_selector({"matchLabels": {"tier": "front", "app": "web"}}) == (
        "app=web,tier=front"
    )
    assert format_label_selector({}) == "<none>"
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert format_labels(None) == "<none>"


POD = {
    "metadata": {"name": "web-1", "namespace": "prod"},
    "spec": {"nodeName": "minikube", "restartPolicy": "Always"},
    "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.5"}]},
}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("metadata.name=web-1", True),
        ("metadata.name==web-1", True),
        ("metadata.name!=web-1", False),
        ("metadata.namespace=prod,status.phase=Running", True),
        ("status.phase!=Running,spec.restartPolicy=Always", False),
        ("spec.nodeName=minikube,status.podIP=10.244.0.5", True),
        ("spec.host=minikube", True),
        ("status.nominatedNodeName=", True),
    ],
)
def test_pod_field_selectors(text: str, matches: bool) -> None:
    assert FieldSelector.parse(text, "Pod").matches(POD) is matches


def test_field_selector_value_escapes() -> None:
    obj = {"metadata": {"name": "a,b=c"}}

    assert FieldSelector.parse(r"metadata.name=a\,b\=c", "ConfigMap").matches(obj)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        (
            "status.phase=Running",
            "Deployment",
            '"status.phase" is not a known field selector: '
            'only "metadata.name", "metadata.namespace"',
        ),
        (
            "status.replicas=0",
            "ReplicaSet",
            '"status.replicas" is not a known field selector: '
            'only "metadata.name", "metadata.namespace"',
        ),
        ("spec.foo=x", "Pod", "field label not supported: spec.foo"),
        ("metadata.namespace=x", "Namespace", "field label not supported: metadata.namespace"),
        ("name", "Pod", "invalid selector: 'name'; can't understand 'name'"),
        (r"metadata.name=a\b", "Pod", r"invalid field selector: invalid escape sequence: \b"),
    ],
)
def test_field_selector_errors(text: str, kind: str, message: str) -> None:
    with pytest.raises(SelectorError) as raised:
        FieldSelector.parse(text, kind)

    assert raised.value.message == message


def test_kind_specific_fields() -> None:
    event = {
        "metadata": {"name": "e1", "namespace": "prod"},
        "involvedObject": {"kind": "Pod", "name": "web-1"},
        "reason": "BackOff",
        "type": "Warning",
        "source": {"component": "kubelet"},
    }
    node = {"metadata": {"name": "minikube"}, "spec": {}}

    assert FieldSelector.parse(
        "involvedObject.kind=Pod,involvedObject.name=web-1,type=Warning,source=kubelet", "Event"
    ).matches(event)
    assert FieldSelector.parse("spec.unschedulable=false", "Node").matches(node)
    assert FieldSelector.parse("type=kubernetes.io/tls", "Secret").matches(
        {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}
    )
    assert FieldSelector.parse("status.phase=Terminating", "Namespace").matches(
        {"metadata": {"name": "n"}, "status": {"phase": "Terminating"}}
    )


def test_exact_name_lets_a_watch_narrow_to_one_object() -> None:
    assert FieldSelector.parse("metadata.name=db", "Pod").exact_name() == "db"
    assert FieldSelector.parse("metadata.name!=db", "Pod").exact_name() is None
