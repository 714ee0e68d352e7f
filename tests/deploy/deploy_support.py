"""Helpers shared by the deploy tests: paths, YAML loading, the service's metric and route names."""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S_BASE = DEPLOY / "k8s" / "base"
K8S_GPU = DEPLOY / "k8s" / "overlays" / "gpu"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "luodi.json"
RULES = DEPLOY / "prometheus" / "rules" / "luodi.yml"

# Labels Prometheus itself attaches to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def k8s_manifest_files() -> list[Path]:
    return sorted(p for p in K8S_BASE.glob("*.yaml") if p.name != "kustomization.yaml")


def k8s_objects() -> list[dict[str, Any]]:
    return [doc for path in k8s_manifest_files() for doc in load_yaml_docs(path)]


def find_object(kind: str, name: str) -> dict[str, Any]:
    for obj in k8s_objects():
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind}/{name} in {K8S_BASE}")


def promtool() -> str | None:
    return shutil.which("promtool")


@cache
def exposed_metrics() -> dict[str, frozenset[str]]:
    """Every sample name the service exposes, with its label names, from its real registry.

    Labelled metrics expose nothing until a child exists, so one child per labelled metric is created
    first; prometheus-client then reports the exact names it writes (``_total``, ``_bucket``, ...).
    """
    from prometheus_client.metrics import MetricWrapperBase

    from luodi.serve.metrics import Metrics

    metrics = Metrics()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase) and value._labelnames:
            value.labels(*["x"] * len(value._labelnames))
    names: dict[str, set[str]] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return {name: frozenset(labels) for name, labels in names.items()}


@cache
def route_templates() -> frozenset[str]:
    """The route templates the service labels its request metrics with (``route`` label)."""
    from luodi.serve.app import create_app
    from luodi.serve.settings import load_serve_settings

    app = create_app(load_serve_settings())  # models load in the lifespan, which never runs here
    # The OpenAPI paths are the templates (``/v1/extract/{schema}``) the request metrics carry.
    return frozenset(app.openapi()["paths"])


_METRIC_TOKEN = re.compile(r"\b(luodi_[a-zA-Z0-9_]+)\b")
_SELECTOR = re.compile(r"\b(luodi_[a-zA-Z0-9_]+)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\"((?:[^\"\\]|\\.)*)\"")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def metric_names(expr: str) -> set[str]:
    return set(_METRIC_TOKEN.findall(expr))


def selector_labels(expr: str) -> list[tuple[str, str, str, str]]:
    """(metric, label, operator, value) for each matcher written inside ``luodi_...{...}``.

    Braces inside a quoted regex (``extract/\\{schema\\}``) would end a naive ``{...}`` match early,
    so quoted strings are blanked before the selectors are found and read back from the original.
    """
    blanked = re.sub(r"\"(?:[^\"\\]|\\.)*\"", lambda m: '"' + "_" * (len(m.group()) - 2) + '"', expr)
    found = []
    for sel in _SELECTOR.finditer(blanked):
        body = expr[sel.start(2) : sel.end(2)]
        for label, op, value in _MATCHER.findall(body):
            found.append((sel.group(1), label, op, value.replace("\\\\", "\\")))
    return found


def grouping_labels(expr: str) -> set[str]:
    return {label.strip() for group in _GROUPING.findall(expr) for label in group.split(",") if label.strip()}
