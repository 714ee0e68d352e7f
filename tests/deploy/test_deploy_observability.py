"""Prometheus rules/config and the Grafana dashboard against promtool and the service's real metrics."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    DASHBOARD,
    DEPLOY,
    RULES,
    TARGET_LABELS,
    exposed_metrics,
    grouping_labels,
    metric_names,
    promtool,
    route_templates,
    selector_labels,
)

needs_promtool = pytest.mark.skipif(
    promtool() is None, reason="promtool not installed (Debian package `prometheus`: apt-get install prometheus)"
)


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = promtool()
    assert tool is not None
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, check=False)


def rule_exprs() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


# --- promtool ---------------------------------------------------------------------------------------
@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    proc = _promtool("check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_rule_unit_tests_pass() -> None:
    """Alerts fire (and stay quiet) on synthetic series: deploy/prometheus/tests/luodi_rules_test.yml."""
    proc = _promtool("test", "rules", str(DEPLOY / "prometheus" / "tests" / "luodi_rules_test.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule with a PromQL syntax error is refused."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "groups:\n- name: x\n  rules:\n  - alert: X\n    expr: sum(rate(luodi_requests_total[5m])\n", encoding="utf-8"
    )
    assert _promtool("check", "rules", str(bad)).returncode != 0


@needs_promtool
def test_compose_prometheus_config_is_valid(tmp_path: Path) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    # In the container the rules are mounted at /etc/prometheus/rules; point at the repo's copy instead.
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    config["rule_files"] = [str(RULES.parent / "*.yml")]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = _promtool("check", "config", str(local))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 1 rule files found" in proc.stdout


@needs_promtool
def test_k8s_prometheus_config_is_valid() -> None:
    proc = _promtool("check", "config", str(DEPLOY / "prometheus" / "prometheus-k8s.yml"))
    if "field kubernetes_sd_configs not found" in proc.stdout + proc.stderr:
        pytest.skip("this promtool is built without Kubernetes service discovery (Debian's is)")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses every panel query (Grafana variables replaced by what they expand to)."""
    rules = []
    for i, expr in enumerate(dashboard_exprs()):
        concrete = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
        assert "$" not in concrete, f"unexpanded variable in {expr!r}"
        rules.append({"record": f"dashboard:query_{i}", "expr": concrete})
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    proc = _promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- names against the service's registry ------------------------------------------------------------
@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_metric_used_exists_in_the_service(source: str) -> None:
    exprs = rule_exprs() if source == "rules" else dashboard_exprs()
    used = set().union(*(metric_names(e) for e in exprs))
    assert used, "no luodi_ metric found: the parser is broken"
    missing = used - set(exposed_metrics())
    assert not missing, f"{source} use metrics the service does not expose: {sorted(missing)}"


def test_metric_check_catches_a_wrong_name() -> None:
    """Guard for the test above: names that prometheus-client would not write are not in the set."""
    names = set(exposed_metrics())
    assert "luodi_requests_total" in names
    assert "luodi_requests" not in names  # a counter is exposed with _total
    assert "process_resident_memory_bytes" not in names  # the service's ProcessCollector is namespaced
    assert "luodi_process_resident_memory_bytes" in names


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_label_names_used_exist_on_their_metrics(source: str) -> None:
    metrics = exposed_metrics()
    exprs = rule_exprs() if source == "rules" else dashboard_exprs()
    allowed_grouping = TARGET_LABELS | {"le"} | set().union(*metrics.values())
    for expr in exprs:
        for metric, label, _, _ in selector_labels(expr):
            assert label in metrics[metric] | TARGET_LABELS, f"{metric} has no label {label!r} ({expr})"
        unknown = grouping_labels(expr) - allowed_grouping
        assert not unknown, f"grouping by labels no luodi metric has: {unknown} ({expr})"


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_route_matchers_match_real_routes(source: str) -> None:
    """A route regex that matches no route template would make a panel or an alert silently empty."""
    routes = route_templates()
    assert "/v1/extract/{schema}" in routes
    exprs = rule_exprs() if source == "rules" else dashboard_exprs()
    checked = 0
    for expr in exprs:
        for _, label, op, value in selector_labels(expr):
            if label != "route":
                continue
            checked += 1
            matches = (lambda r, v=value: re.fullmatch(v, r)) if op == "=~" else (lambda r, v=value: r == v)
            hits = [r for r in routes if matches(r)]
            assert hits, f"route matcher {op}{value!r} matches none of {sorted(routes)}"
    assert checked


def test_latency_objective_covers_ocr_and_extract_only() -> None:
    pattern = next(v for e in rule_exprs() for _, label, _, v in selector_labels(e) if label == "route" and "ocr" in v)
    routes = route_templates()
    assert {r for r in routes if re.fullmatch(pattern, r)} == {"/v1/ocr", "/v1/extract/{schema}"}


# --- dashboard shape ---------------------------------------------------------------------------------
def test_dashboard_uses_the_provisioned_datasource() -> None:
    provisioned = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )
    uids = {ds["uid"] for ds in provisioned["datasources"]}
    d = dashboard()
    for panel in d["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids
    for var in d["templating"]["list"]:
        assert var["datasource"]["uid"] in uids


def test_dashboard_provider_path_is_where_compose_mounts_it() -> None:
    provider = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "luodi.yml").read_text(encoding="utf-8")
    )
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    mounts = compose["services"]["grafana"]["volumes"]
    path = provider["providers"][0]["options"]["path"]
    assert f"./grafana/dashboards:{path}:ro" in mounts


def test_dashboard_panels_are_unique_and_do_not_overlap() -> None:
    panels = dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for p in panels:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        mine = {(g["x"] + dx, g["y"] + dy) for dx in range(g["w"]) for dy in range(g["h"])}
        assert not cells & mine, f"panel {p['title']!r} overlaps another"
        cells |= mine


@pytest.mark.parametrize(
    ("topic", "needle"),
    [
        ("request rate", "rate(luodi_requests_total"),
        ("error rate", 'status=~"5.."'),
        ("latency p50", "histogram_quantile(0.5, sum by (le) (rate(luodi_request_duration_seconds_bucket"),
        ("latency p95", "histogram_quantile(0.95, sum by (le) (rate(luodi_request_duration_seconds_bucket"),
        ("latency p99", "histogram_quantile(0.99, sum by (le) (rate(luodi_request_duration_seconds_bucket"),
        ("queue depth", "luodi_queue_depth"),
        ("batch size", "luodi_rec_batch_size_bucket"),
        ("jobs by state", "max by (state) (luodi_jobs_current"),
        ("memory", "luodi_process_resident_memory_bytes"),
    ],
)
def test_dashboard_covers(topic: str, needle: str) -> None:
    assert any(needle in e for e in dashboard_exprs()), f"no panel shows {topic}"


@pytest.mark.parametrize(
    "alert", ["LuodiHighErrorRate", "LuodiLatencyObjectiveBreached", "LuodiQueueSaturated", "LuodiInstanceDown"]
)
def test_required_alerts_exist(alert: str) -> None:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    alerts = {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}
    assert alert in alerts
    assert alerts[alert]["labels"]["severity"] in {"warning", "critical"}
    assert alerts[alert]["annotations"]["summary"]


def test_recording_rules_used_by_alerts_are_defined() -> None:
    used = {m for e in rule_exprs() for m in re.findall(r"\bluodi:[a-z0-9_:]+", e)}
    assert used
    assert used <= recorded_names()


def rejection_reasons() -> set[str]:
    """Every ``reason`` the service gives ``luodi_rejected_total``: the string constants passed to
    ``….rejected.labels(…)`` anywhere in src/luodi/serve (a conditional picks one of two)."""
    import ast

    reasons: set[str] = set()
    for path in (DEPLOY.parent / "src" / "luodi" / "serve").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "labels"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "rejected"
            ):
                for arg in node.args:  # type: ignore[union-attr]
                    reasons |= {
                        c.value for c in ast.walk(arg) if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    }
    return reasons


def test_the_rejection_alert_explains_every_reason_the_service_sheds_for() -> None:
    reasons = rejection_reasons()
    # the reasons the gate and the middleware give today; a new one must be explained in the alert
    assert {"queue_full", "latency_target", "deadline_in_queue", "deadline_running"} <= reasons
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    (alert,) = [r for g in groups for r in g["rules"] if r.get("alert") == "LuodiRequestsRejected"]
    text = alert["annotations"]["description"]
    assert "{{ $labels.reason }}" in text
    assert not [r for r in reasons if f"{r}:" not in text and f"{r} /" not in text], text
    # the rules' unit test fires the alert for the default shedding reason, so promtool checks its text
    tests = (DEPLOY / "prometheus" / "tests" / "luodi_rules_test.yml").read_text(encoding="utf-8")
    assert 'reason="latency_target"' in tests and "reason: latency_target" in tests
