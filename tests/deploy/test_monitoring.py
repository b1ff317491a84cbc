# SPDX-License-Identifier: Apache-2.0
"""deploy/monitoring: promtool check config / check rules / test rules, and every metric name in
the rules and dashboards is one the binaries (or the named exporters) really expose."""
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import HERE, ROOT, check_promql, compose_doc, config_table, promtool, run

MON = ROOT / "deploy" / "monitoring"
RULES = sorted((MON / "rules").glob("*.yml"))
DASHBOARDS = sorted((MON / "grafana" / "dashboards").glob("*.json"))
REQUIRED_ALERTS = {
    "SentinelQueueBacklog",       # queue backlog
    "SentinelNoWorkers",          # no workers
    "SentinelInternalErrorRate",  # error rate
    "SentinelSandboxFailures",    # sandbox failures
    "SentinelApi5xx",             # API 5xx
    "SentinelApiLatencyP99",      # p99 latency
}


def rule_exprs(docs):
    for path, doc in docs:
        for g in doc["groups"]:
            for r in g["rules"]:
                yield f"{path.name}:{r.get('alert') or r.get('record')}", r["expr"]


def dashboard_exprs(dashboards):
    for path, d in dashboards:
        for p in d.get("panels", []):
            for t in p.get("targets", []):
                yield f"{path.name}:{p.get('title')}", t.get("expr", "")


def check_names(items):
    problems = []
    for where, expr in items:
        problems += check_promql(expr, where)
    return problems


def test_rules_pass_promtool_check():
    assert RULES
    r = run([promtool(), "check", "rules", *map(str, RULES)])
    assert r.returncode == 0, r.stdout + r.stderr


def test_rules_unit_tests_pass():
    """tests/deploy/rules-test.yml: series in, alerts out (each alert fires when it should)."""
    r = run([promtool(), "test", "rules", str(HERE / "rules-test.yml")], cwd=HERE)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-k8s.yml"])
def test_prometheus_config_passes_promtool(config, tmp_path):
    # rule_files point where the containers mount them: check them from the repository instead.
    doc = yaml.safe_load((MON / config).read_text())
    assert doc["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    doc["rule_files"] = [str(MON / "rules" / "*.yml")]
    (tmp_path / config).write_text(yaml.safe_dump(doc))
    r = run([promtool(), "check", "config", str(tmp_path / config)])
    if r.returncode != 0 and "field kubernetes_sd_configs not found" in r.stdout + r.stderr:
        # Debian's Prometheus is built without Kubernetes service discovery: check everything
        # else (relabelling, rules) with the discovery replaced by an equivalent file_sd.
        for job in doc["scrape_configs"]:
            if job.pop("kubernetes_sd_configs", None) is not None:
                (tmp_path / "targets.json").write_text("[]")
                job["file_sd_configs"] = [{"files": [str(tmp_path / "targets.json")]}]
        (tmp_path / config).write_text(yaml.safe_dump(doc))
        r = run([promtool(), "check", "config", str(tmp_path / config)])
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert f"SUCCESS: {len(RULES)} rule files found" in out, out


def test_promtool_check_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: sum(rate(x[5m]) > \n")
    assert run([promtool(), "check", "rules", str(bad)]).returncode != 0
    conf = tmp_path / "prometheus.yml"
    conf.write_text("global:\n  scrape_interval: 15x\nscrape_configs:\n  - job_name: a\n")
    assert run([promtool(), "check", "config", str(conf)]).returncode != 0


def test_required_alerts_exist_with_severity_and_summary():
    alerts = {}
    for path in RULES:
        for g in yaml.safe_load(path.read_text())["groups"]:
            for r in g["rules"]:
                if "alert" in r:
                    alerts[r["alert"]] = r
    assert REQUIRED_ALERTS <= set(alerts), REQUIRED_ALERTS - set(alerts)
    for name, r in alerts.items():
        assert r["labels"]["severity"] in ("warning", "critical"), name
        assert r["annotations"].get("summary") and r["annotations"].get("description"), name


def test_rule_metrics_exist_in_code():
    docs = [(p, yaml.safe_load(p.read_text())) for p in RULES]
    assert check_names(rule_exprs(docs)) == []


def test_dashboard_metrics_exist_in_code():
    dashboards = [(p, json.loads(p.read_text())) for p in DASHBOARDS]
    assert check_names(dashboard_exprs(dashboards)) == []


def test_metric_check_can_fail():
    assert check_promql('rate(sentinel_jobs_total[5m])', "x")               # no such metric
    assert check_promql('sentinel_workers_active_bucket', "x")              # not a histogram
    assert check_promql('rabbitmq_queue_depth_total', "x")                  # not an exporter's
    assert check_promql('sentinel_http_requests_total{route="submitt"}', "x")
    assert check_promql('sentinel_executions_total{status="INTERNAL_EROR"}', "x")
    assert check_promql('rabbitmq_queue_messages_ready{queue="jobs"}', "x")
    assert not check_promql('sum by (le) (rate(sentinel_queue_wait_seconds_bucket[5m]))', "x")


def test_dashboards_are_valid_and_provisioned():
    names = {p.name for p in DASHBOARDS}
    assert {"sentinel-overview.json", "sentinel-workers.json", "sentinel-infrastructure.json"} <= names
    ds = yaml.safe_load((MON / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {d["uid"] for d in ds["datasources"]}
    seen = set()
    for p in DASHBOARDS:
        d = json.loads(p.read_text())
        assert d["uid"] not in seen
        seen.add(d["uid"])
        assert d["title"] and d["panels"], p
        ids = [x["id"] for x in d["panels"]]
        assert len(ids) == len(set(ids)), f"{p.name}: duplicate panel ids"
        for panel in d["panels"]:
            assert panel["datasource"]["uid"] in uids, (p.name, panel["title"])
            assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), (p.name, panel["title"])
    prov = yaml.safe_load((MON / "grafana" / "provisioning" / "dashboards" / "sentinel.yml").read_text())
    path = prov["providers"][0]["options"]["path"]
    mounts = compose_doc()["services"]["grafana"]["volumes"]
    assert any(m.startswith("./deploy/monitoring/grafana/dashboards:" + path) for m in mounts)
    assert any(m.startswith("./deploy/monitoring/grafana/provisioning:/etc/grafana/provisioning") for m in mounts)


def test_prometheus_scrapes_what_compose_runs():
    """Every static target is a compose service on a port it listens on."""
    services = compose_doc()["services"]
    doc = yaml.safe_load((MON / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    assert {"sentinel-api", "sentinel-worker", "rabbitmq", "postgres", "redis"} <= set(jobs)
    api_env = services["api"]["environment"]
    worker_env = services["worker"]["environment"]
    rmq_conf = (ROOT / "deploy" / "docker" / "rabbitmq" / "rabbitmq.conf").read_text()
    expect = {
        "api": int(api_env.get("SENTINEL_API_PORT") or config_table()["SENTINEL_API_PORT"]),
        "worker": int(worker_env.get("SENTINEL_METRICS_PORT") or config_table()["SENTINEL_METRICS_PORT"]),
        "rabbitmq": int(re.search(r"^prometheus\.tcp\.port\s*=\s*(\d+)", rmq_conf, re.M).group(1)),
        "postgres-exporter": 9187,   # postgres_exporter's default listen port
        "redis-exporter": 9121,      # redis_exporter's default listen port
        "127.0.0.1": 9090,           # Prometheus itself
    }
    for j in jobs.values():
        for sc in j["static_configs"]:
            for t in sc["targets"]:
                host, port = t.rsplit(":", 1)
                assert host == "127.0.0.1" or host in services, t
                assert expect.get(host) == int(port), t
