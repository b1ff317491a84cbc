# SPDX-License-Identifier: Apache-2.0
"""deploy/k8s: `kubectl kustomize` renders each overlay; every object is checked: required fields,
selectors against pod labels, container ports against what the binaries listen on, probes and
Service/Ingress ports against container ports, configuration against the binaries' variables,
secrets and config maps that exist, KEDA, HPA, PDB, NetworkPolicies."""
import copy
import re
from pathlib import Path

import pytest
import yaml

from conftest import K8S, ROOT, WORKER_CAPS, check_env_values, config_table, kustomize, setting

CLUSTER_SCOPED = {"Namespace", "ClusterIssuer", "ClusterRole", "ClusterRoleBinding"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}
NAMESPACE = "sentinel"


def by_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


def get(objs, kind, name):
    for o in objs:
        if o["kind"] == kind and o["metadata"]["name"] == name:
            return o
    return None


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pods(objs):
    """(workload, pod template) pairs."""
    return [(w, w["spec"]["template"]) for w in objs if w["kind"] in WORKLOADS]


def container_ports(template):
    out = {}
    for c in template["spec"].get("containers", []):
        for p in c.get("ports", []):
            out[p["containerPort"]] = p
            if "name" in p:
                out[p["name"]] = p
    return out


def secret_keys(objs):
    """{secret name: keys}: generated Secrets, else the template the prod overlay expects."""
    out = {o["metadata"]["name"]: set((o.get("data") or {}) | (o.get("stringData") or {}))
           for o in by_kind(objs, "Secret")}
    if not out:
        t = yaml.safe_load((K8S / "base" / "secrets.template.yaml").read_text())
        out[t["metadata"]["name"]] = set(t["stringData"])
    return out


def effective_env(objs, container):
    """The SENTINEL_* values the container's process sees (configMapRef data, then env)."""
    env = {}
    for ef in container.get("envFrom", []):
        cm = get(objs, "ConfigMap", ef.get("configMapRef", {}).get("name", ""))
        if cm:
            env.update(cm.get("data", {}))
    for e in container.get("env", []):
        env[e["name"]] = e.get("value", "<from>")
    return env


def check_objects(objs):
    problems = []
    names = {}
    for o in objs:
        kind, meta = o.get("kind"), o.get("metadata") or {}
        if not o.get("apiVersion") or not kind or not meta.get("name"):
            problems.append(f"object without apiVersion/kind/name: {meta}")
            continue
        key = (kind, meta["name"])
        if key in names:
            problems.append(f"duplicate {kind}/{meta['name']}")
        names[key] = o
        if kind not in CLUSTER_SCOPED and meta.get("namespace") != NAMESPACE:
            problems.append(f"{kind}/{meta['name']}: namespace {meta.get('namespace')!r}, not {NAMESPACE}")
        if meta.get("labels", {}).get("app.kubernetes.io/part-of") != "sentinel":
            problems.append(f"{kind}/{meta['name']}: no app.kubernetes.io/part-of label")

    secrets = secret_keys(objs)
    configmaps = {o["metadata"]["name"]: o for o in by_kind(objs, "ConfigMap")}
    for cm in configmaps.values():
        problems += check_env_values(cm.get("data", {}), f"ConfigMap/{cm['metadata']['name']}")

    for w, t in pods(objs):
        wn = f"{w['kind']}/{w['metadata']['name']}"
        sel = w["spec"].get("selector", {}).get("matchLabels", {})
        if not matches(sel, t["metadata"].get("labels", {})):
            problems.append(f"{wn}: selector {sel} does not match the pod labels")
        if w["kind"] == "StatefulSet" and not get(objs, "Service", w["spec"].get("serviceName", "")):
            problems.append(f"{wn}: serviceName names no Service")
        ports = container_ports(t)
        ann = t["metadata"].get("annotations", {})
        if ann.get("prometheus.io/scrape") == "true" and int(ann.get("prometheus.io/port", 0)) not in ports:
            problems.append(f"{wn}: prometheus.io/port {ann.get('prometheus.io/port')} is no container port")
        vols = {v["name"]: v for v in t["spec"].get("volumes", [])}
        vols.update({v["metadata"]["name"]: v for v in w["spec"].get("volumeClaimTemplates", [])})
        for v in vols.values():
            cmref = v.get("configMap")
            if cmref:
                cm = configmaps.get(cmref["name"])
                if not cm:
                    problems.append(f"{wn}: volume {v['name']} names no ConfigMap {cmref['name']}")
                else:
                    for it in cmref.get("items", []):
                        if it["key"] not in cm.get("data", {}):
                            problems.append(f"{wn}: ConfigMap {cmref['name']} has no key {it['key']}")
            sref = v.get("secret")
            if sref:
                keys = secrets.get(sref["secretName"], set())
                for it in sref.get("items", []):
                    if it["key"] not in keys:
                        problems.append(f"{wn}: Secret {sref['secretName']} has no key {it['key']}")
        for c in t["spec"].get("initContainers", []) + t["spec"]["containers"]:
            cn = f"{wn}/{c['name']}"
            if not c.get("image"):
                problems.append(f"{cn}: no image")
            res = c.get("resources", {})
            if not res.get("requests") or not res.get("limits", {}).get("memory"):
                problems.append(f"{cn}: no resource requests and memory limit")
            for m in c.get("volumeMounts", []):
                if m["name"] not in vols:
                    problems.append(f"{cn}: mounts unknown volume {m['name']}")
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                p = c.get(probe)
                port = p and (p.get("httpGet") or p.get("tcpSocket") or {}).get("port")
                if port is not None and port not in ports:
                    problems.append(f"{cn}: {probe} port {port} is no container port")
            problems += check_env_values({e["name"]: e.get("value", "<from>") for e in c.get("env", [])}, cn)
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["key"] not in secrets.get(ref["name"], set()):
                    problems.append(f"{cn}: Secret {ref['name']} has no key {ref['key']}")
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref and ref["key"] not in configmaps.get(ref["name"], {}).get("data", {}):
                    problems.append(f"{cn}: ConfigMap {ref['name']} has no key {ref['key']}")
            for ef in c.get("envFrom", []):
                n = ef.get("configMapRef", {}).get("name")
                if n and n not in configmaps:
                    problems.append(f"{cn}: envFrom names no ConfigMap {n}")

    for s in by_kind(objs, "Service"):
        sel = s["spec"].get("selector", {})
        targets = [t for w, t in pods(objs) if matches(sel, t["metadata"].get("labels", {}))]
        if not targets:
            problems.append(f"Service/{s['metadata']['name']}: selector {sel} matches no pod")
        for p in s["spec"]["ports"]:
            tp = p.get("targetPort", p["port"])
            for t in targets:
                if tp not in container_ports(t):
                    problems.append(f"Service/{s['metadata']['name']}: targetPort {tp} is no container port")

    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for h in by_kind(objs, kind):
            ref = h["spec"]["scaleTargetRef"]
            if not get(objs, ref.get("kind", "Deployment"), ref["name"]):
                problems.append(f"{kind}/{h['metadata']['name']}: scales unknown {ref['name']}")
    for p in by_kind(objs, "PodDisruptionBudget"):
        sel = p["spec"]["selector"]["matchLabels"]
        if not any(matches(sel, t["metadata"].get("labels", {})) for w, t in pods(objs)):
            problems.append(f"PodDisruptionBudget/{p['metadata']['name']}: matches no pod")
    for np in by_kind(objs, "NetworkPolicy"):
        sel = np["spec"]["podSelector"].get("matchLabels")
        if sel == {"acme.cert-manager.io/http01-solver": "true"}:
            continue   # cert-manager's solver pods come and go
        if sel and not any(matches(sel, t["metadata"].get("labels", {})) for w, t in pods(objs)):
            problems.append(f"NetworkPolicy/{np['metadata']['name']}: selects no pod")

    for ing in by_kind(objs, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                svc = path["backend"]["service"]
                s = get(objs, "Service", svc["name"])
                if not s:
                    problems.append(f"Ingress: backend {svc['name']} is no Service")
                    continue
                port = svc["port"].get("name") or svc["port"].get("number")
                if not any(port in (p.get("name"), p["port"]) for p in s["spec"]["ports"]):
                    problems.append(f"Ingress: Service {svc['name']} has no port {port}")
                if path["path"] in ("/", "/metrics", "/ready") and path["pathType"] != "Exact" or \
                        path["path"].startswith(("/metrics", "/ready")):
                    problems.append(f"Ingress: {path['path']} ({path['pathType']}) exposes /metrics or /ready")
    return problems


def sentinel_container(objs, name):
    w = get(objs, "Deployment", name)
    return w, w["spec"]["template"], w["spec"]["template"]["spec"]["containers"][0]


def check_sentinel(objs, overlay):
    """Sentinel's own workloads against the binaries: ports, probes, privileges, scaling."""
    problems = []
    _, api_t, api = sentinel_container(objs, "sentinel-api")
    _, wrk_t, wrk = sentinel_container(objs, "sentinel-worker")
    for t, c, vars_ in ((api_t, api, ("SENTINEL_API_PORT", "SENTINEL_WS_PORT")),
                        (wrk_t, wrk, ("SENTINEL_METRICS_PORT",))):
        env = effective_env(objs, c)
        if setting(env, "SENTINEL_LISTEN_ADDRESS") not in ("0.0.0.0", "::"):
            problems.append(f"{c['name']}: SENTINEL_LISTEN_ADDRESS must be 0.0.0.0")
        ports = {p["containerPort"] for p in c.get("ports", [])}
        for v in vars_:
            if int(setting(env, v)) not in ports:
                problems.append(f"{c['name']}: {v}={setting(env, v)} is not a container port")
        main_port = int(setting(env, vars_[0]))
        for probe in ("readinessProbe", "livenessProbe"):
            p = c.get(probe, {}).get("httpGet")
            if not p:
                problems.append(f"{c['name']}: no HTTP {probe}")
                continue
            port = p["port"]
            if isinstance(port, str):
                port = container_ports(t)[port]["containerPort"]
            if port != main_port or p["path"] not in ("/health", "/ready"):
                problems.append(f"{c['name']}: {probe} {p['path']} on {port}: the binary serves /health on {main_port}")
        for k in ("SENTINEL_DATABASE_URL", "SENTINEL_AMQP_URL", "SENTINEL_REDIS_URL", "SENTINEL_POLICY_DIR"):
            if k not in env:
                problems.append(f"{c['name']}: {k} not set")
        pol = env.get("SENTINEL_POLICY_DIR")
        if not any(m["mountPath"] == pol for m in c.get("volumeMounts", [])):
            problems.append(f"{c['name']}: nothing mounted at SENTINEL_POLICY_DIR {pol}")
        if "<from>" != env.get("SENTINEL_DATABASE_URL"):
            problems.append(f"{c['name']}: SENTINEL_DATABASE_URL must come from the Secret")

    sc = api.get("securityContext", {})
    psc = api_t["spec"].get("securityContext", {})
    if not (psc.get("runAsNonRoot") and psc.get("runAsUser", 0) != 0 and sc.get("readOnlyRootFilesystem")
            and sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities", {}).get("drop") == ["ALL"]
            and not sc.get("capabilities", {}).get("add")):
        problems.append("sentinel-api: must run as non-root, read-only, without capabilities")
    sc = wrk.get("securityContext", {})
    if sc.get("privileged") or wrk_t["spec"].get("hostPID") or wrk_t["spec"].get("hostNetwork"):
        problems.append("sentinel-worker: privileged/host namespaces are more than it needs")
    caps = sc.get("capabilities", {})
    if caps.get("drop") != ["ALL"] or set(caps.get("add", [])) != WORKER_CAPS:
        problems.append(f"sentinel-worker: capabilities must be exactly {sorted(WORKER_CAPS)}")
    if sc.get("seccompProfile", {}).get("type") != "Unconfined" or sc.get("appArmorProfile", {}).get("type") != "Unconfined":
        problems.append("sentinel-worker: seccomp and AppArmor must be Unconfined (clone3, unshare, mount)")
    if wrk_t["spec"].get("automountServiceAccountToken") is not False:
        problems.append("sentinel-worker: must not mount a service account token")
    slots = next((e for e in wrk.get("env", []) if e["name"] == "SENTINEL_SLOTS"), None)
    if not slots or slots.get("valueFrom", {}).get("resourceFieldRef", {}).get("resource") != "limits.cpu":
        problems.append("sentinel-worker: SENTINEL_SLOTS must follow the CPU limit")
    grace = int(setting(effective_env(objs, wrk), "SENTINEL_SHUTDOWN_GRACE_MS")) / 1000
    if wrk_t["spec"].get("terminationGracePeriodSeconds", 30) <= grace:
        problems.append("sentinel-worker: terminationGracePeriodSeconds must exceed SENTINEL_SHUTDOWN_GRACE_MS")

    so = get(objs, "ScaledObject", "sentinel-worker")
    if not so:
        problems.append("no KEDA ScaledObject for sentinel-worker")
    else:
        spec = so["spec"]
        if not (1 <= spec.get("minReplicaCount", 0) < spec.get("maxReplicaCount", 0)):
            problems.append("ScaledObject: needs 1 <= minReplicaCount < maxReplicaCount")
        beh = spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior", {})
        if not beh.get("scaleUp", {}).get("policies") or not beh.get("scaleDown", {}).get("policies"):
            problems.append("ScaledObject: scale-up and scale-down policies required")
        trig = [t for t in spec.get("triggers", []) if t["type"] == "rabbitmq"]
        queue = setting(effective_env(objs, wrk), "SENTINEL_QUEUE")
        if not trig or trig[0]["metadata"].get("queueName") != queue:
            problems.append(f"ScaledObject: needs a rabbitmq trigger on queue {queue}")
        else:
            ta = get(objs, "TriggerAuthentication", trig[0].get("authenticationRef", {}).get("name", ""))
            if not ta:
                problems.append("ScaledObject: authenticationRef names no TriggerAuthentication")
            else:
                for r in ta["spec"]["secretTargetRef"]:
                    if r["key"] not in secret_keys(objs).get(r["name"], set()):
                        problems.append(f"TriggerAuthentication: Secret {r['name']} has no key {r['key']}")
    hpa = get(objs, "HorizontalPodAutoscaler", "sentinel-api")
    if not hpa or hpa["spec"]["scaleTargetRef"]["name"] != "sentinel-api":
        problems.append("no HPA for sentinel-api")
    if not get(objs, "PodDisruptionBudget", "sentinel-api"):
        problems.append("no PDB for sentinel-api")
    return problems


def check_topology(objs, overlay):
    """What the issue asks for, by kind and count."""
    problems = []
    for kind, name in (("Namespace", NAMESPACE), ("ResourceQuota", "sentinel-quota"), ("LimitRange", "sentinel-limits"),
                       ("StatefulSet", "postgres"), ("StatefulSet", "rabbitmq"), ("StatefulSet", "redis"),
                       ("Deployment", "sentinel-api"), ("Deployment", "sentinel-worker"), ("Ingress", "sentinel"),
                       ("NetworkPolicy", "default-deny"), ("ConfigMap", "sentinel-config")):
        if not get(objs, kind, name):
            problems.append(f"missing {kind}/{name}")
    if not any(o["metadata"]["name"].startswith("sentinel-policies") for o in by_kind(objs, "ConfigMap")):
        problems.append("missing the generated ConfigMap sentinel-policies")
    if overlay == "prod":
        if (get(objs, "StatefulSet", "rabbitmq") or {}).get("spec", {}).get("replicas") != 3:
            problems.append("prod: RabbitMQ needs 3 replicas")
        if (get(objs, "Deployment", "sentinel-api") or {}).get("spec", {}).get("replicas") != 3:
            problems.append("prod: the API needs 3 replicas")
        if by_kind(objs, "Secret"):
            problems.append("prod: no Secret may be generated from the repository")
        for d in ("sentinel-api", "sentinel-worker"):
            img = get(objs, "Deployment", d)["spec"]["template"]["spec"]["containers"][0]["image"]
            if ":" not in img.rsplit("/", 1)[-1] or img.endswith(":latest"):
                problems.append(f"prod: {d} image {img} is not pinned to a version")
    ing = get(objs, "Ingress", "sentinel")
    if ing:
        ann = ing["metadata"].get("annotations", {})
        if not any(k.startswith("cert-manager.io/") and k.endswith("issuer") for k in ann):
            problems.append("Ingress: no cert-manager issuer annotation")
        issuer = ann.get("cert-manager.io/cluster-issuer") or ann.get("cert-manager.io/issuer")
        kind = "ClusterIssuer" if "cert-manager.io/cluster-issuer" in ann else "Issuer"
        if not get(objs, kind, issuer):
            problems.append(f"Ingress: {kind} {issuer} is not part of the overlay")
        hosts = {r["host"] for r in ing["spec"]["rules"]}
        if not ing["spec"].get("tls") or set(ing["spec"]["tls"][0]["hosts"]) != hosts:
            problems.append("Ingress: TLS must cover every host")
        backends = {p["backend"]["service"]["port"].get("name") for r in ing["spec"]["rules"] for p in r["http"]["paths"]}
        if not {"http", "ws"} <= backends:
            problems.append("Ingress: must route REST (http) and the WebSocket (ws)")
        # The page opens wss://HOST:SENTINEL_WS_PORT: behind the ingress that must be 443.
        _, _, api = sentinel_container(objs, "sentinel-api")
        if setting(effective_env(objs, api), "SENTINEL_WS_PORT") != "443":
            problems.append("sentinel-api: SENTINEL_WS_PORT must be 443 behind the TLS ingress")
        origins = setting(effective_env(objs, api), "SENTINEL_WS_ORIGINS").split(",")
        if not all(f"https://{h}" in origins for h in hosts):
            problems.append("SENTINEL_WS_ORIGINS must allow the ingress host(s)")
    return problems


UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3}


def quantity(q):
    m = re.fullmatch(r"([\d.]+)([a-zA-Z]*)", str(q))
    return float(m.group(1)) * UNITS.get(m.group(2), 1)


def max_replicas(objs, w):
    n = w["spec"].get("replicas", 1)
    for kind, field in (("HorizontalPodAutoscaler", "maxReplicas"), ("ScaledObject", "maxReplicaCount")):
        for h in by_kind(objs, kind):
            if h["spec"]["scaleTargetRef"]["name"] == w["metadata"]["name"]:
                n = max(n, h["spec"][field])
    # one extra pod during a rolling update
    return n + (1 if w["kind"] == "Deployment" else 0)


def check_capacity(objs):
    """The ResourceQuota admits every workload at its largest scale, the LimitRange admits every
    container, KEDA's per-replica target equals a worker's slots, a worker's memory covers them."""
    problems = []
    quota = by_kind(objs, "ResourceQuota")[0]["spec"]["hard"]
    need = {"requests.cpu": 0, "requests.memory": 0, "limits.cpu": 0, "limits.memory": 0, "pods": 0,
            "persistentvolumeclaims": 0, "requests.storage": 0}
    lr = {l["type"]: l for l in by_kind(objs, "LimitRange")[0]["spec"]["limits"]}
    for w, t in pods(objs):
        n = max_replicas(objs, w)
        need["pods"] += n
        for c in t["spec"]["containers"]:
            for k in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    need[f"{k}.{r}"] += n * quantity(c["resources"][k][r])
            for r in ("cpu", "memory"):
                if quantity(c["resources"]["limits"][r]) > quantity(lr["Container"]["max"][r]):
                    problems.append(f"{w['metadata']['name']}/{c['name']}: {r} limit above the LimitRange")
        for v in w["spec"].get("volumeClaimTemplates", []):
            size = quantity(v["spec"]["resources"]["requests"]["storage"])
            need["persistentvolumeclaims"] += w["spec"].get("replicas", 1)
            need["requests.storage"] += w["spec"].get("replicas", 1) * size
            if size > quantity(lr["PersistentVolumeClaim"]["max"]["storage"]):
                problems.append(f"{w['metadata']['name']}: volume above the LimitRange")
    for k, v in need.items():
        if v > quantity(quota[k]) + 1e-9:
            problems.append(f"ResourceQuota {k}={quota[k]} is below what the workloads need at full scale ({v:g})")

    _, wrk_t, wrk = sentinel_container(objs, "sentinel-worker")
    slots = quantity(wrk["resources"]["limits"]["cpu"])
    so = get(objs, "ScaledObject", "sentinel-worker")
    value = float(so["spec"]["triggers"][0]["metadata"]["value"])
    if value != slots:
        problems.append(f"ScaledObject value {value:g} is not the slots of one worker ({slots:g})")
    env = effective_env(objs, wrk)
    per_job = max(int(setting(env, "SENTINEL_MAX_MEMORY_KB")), int(setting(env, "SENTINEL_COMPILE_MEMORY_KB"))) * 1024
    if quantity(wrk["resources"]["limits"]["memory"]) < slots * per_job + 256 * 2**20:
        problems.append("sentinel-worker: memory limit below slots x SENTINEL_MAX_MEMORY_KB + 256 MiB")
    return problems


def policy_peers(rule_list):
    out = []
    for r in rule_list or []:
        peers = r.get("to") or r.get("from") or [{}]
        for peer in peers:
            for p in r.get("ports") or [{}]:
                out.append((peer, p.get("port")))
    return out


def check_network(objs):
    """Default deny, then: API and workers reach their three dependencies, which admit them;
    workers reach nothing else (no ipBlock, no namespace, no port-only rule)."""
    problems = []
    dd = get(objs, "NetworkPolicy", "default-deny")
    if not dd or dd["spec"]["podSelector"] != {} or set(dd["spec"].get("policyTypes", [])) != {"Ingress", "Egress"} \
            or dd["spec"].get("ingress") or dd["spec"].get("egress"):
        problems.append("default-deny must select every pod and allow nothing")
    nps = by_kind(objs, "NetworkPolicy")

    def applies(np, app):
        sel = np["spec"]["podSelector"].get("matchLabels", {})
        return not sel or sel.get("app.kubernetes.io/name") == app

    def allowed(direction, app, peer_app, port):
        for np in nps:
            if not applies(np, app):
                continue
            for peer, p in policy_peers(np["spec"].get(direction)):
                ps = peer.get("podSelector", {}).get("matchLabels", {})
                if ps.get("app.kubernetes.io/name") == peer_app and not peer.get("namespaceSelector") and p in (port, None):
                    return True
        return False

    for client in ("sentinel-api", "sentinel-worker"):
        for dep, port in (("postgres", 5432), ("rabbitmq", 5672), ("redis", 6379)):
            if not allowed("egress", client, dep, port):
                problems.append(f"{client} cannot reach {dep}:{port}")
            if not allowed("ingress", dep, client, port):
                problems.append(f"{dep} does not admit {client} on {port}")
    # cert-manager's HTTP-01 solver (it runs in this namespace) must be reachable from the ingress.
    solver = [np for np in nps if np["spec"]["podSelector"].get("matchLabels") == {"acme.cert-manager.io/http01-solver": "true"}]
    if not any(peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "ingress-nginx"
               and port == 8089 for np in solver for peer, port in policy_peers(np["spec"].get("ingress"))):
        problems.append("cert-manager's HTTP-01 solver pods are not reachable from ingress-nginx on 8089")
    for np in nps:
        if not applies(np, "sentinel-worker"):
            continue
        for peer, port in policy_peers(np["spec"].get("egress")):
            app = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
            ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            dns = ns == "kube-system" and peer.get("podSelector", {}).get("matchLabels", {}).get("k8s-app") == "kube-dns" \
                and port == 53
            if not dns and (app not in ("postgres", "rabbitmq", "redis") or "ipBlock" in peer or ns):
                problems.append(f"NetworkPolicy/{np['metadata']['name']}: lets workers reach {peer or 'anything'}:{port}")
    return problems


def test_overlay_builds_and_objects_are_sound(overlay):
    objs = kustomize(overlay)
    assert check_objects(objs) == []


def test_sentinel_workloads_match_the_binaries(overlay):
    assert check_sentinel(kustomize(overlay), overlay) == []


def test_overlay_has_what_the_issue_asks(overlay):
    assert check_topology(kustomize(overlay), overlay) == []


def test_capacity(overlay):
    assert check_capacity(kustomize(overlay)) == []


def test_network_policies(overlay):
    assert check_network(kustomize(overlay)) == []


def test_policies_configmap_is_the_repository_files(overlay):
    cm = next(o for o in kustomize(overlay) if o["kind"] == "ConfigMap"
              and o["metadata"]["name"].startswith("sentinel-policies"))
    files = {p.relative_to(ROOT / "sandbox-policies").as_posix(): p.read_text()
             for p in (ROOT / "sandbox-policies").rglob("*.json")}
    mounted = {}
    for d in ("sentinel-api", "sentinel-worker"):
        t = get(kustomize(overlay), "Deployment", d)["spec"]["template"]
        vol = next(v for v in t["spec"]["volumes"] if v.get("configMap", {}).get("name") == cm["metadata"]["name"])
        mounted[d] = {it["path"]: cm["data"][it["key"]] for it in vol["configMap"]["items"]}
        assert mounted[d] == files, f"{d}: the mounted policies differ from sandbox-policies/"


def test_kubectl_kustomize_can_fail(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    import subprocess
    r = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode != 0


BREAKAGES = [
    ("objects", lambda o: get(o, "Deployment", "sentinel-api")["spec"]["selector"]["matchLabels"].__setitem__(
        "app.kubernetes.io/name", "api")),
    ("objects", lambda o: get(o, "Service", "sentinel-worker")["spec"]["ports"][0].__setitem__("targetPort", "metric")),
    ("objects", lambda o: get(o, "Service", "postgres")["spec"]["selector"].__setitem__("app.kubernetes.io/name", "pg")),
    ("objects", lambda o: get(o, "ConfigMap", "sentinel-config")["data"].__setitem__("SENTINEL_THREADS", "4")),
    ("objects", lambda o: get(o, "Ingress", "sentinel")["spec"]["rules"][0]["http"]["paths"].append(
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "sentinel-api", "port": {"name": "http"}}}})),
    ("objects", lambda o: get(o, "Deployment", "sentinel-worker")["spec"]["template"]["spec"]["containers"][0]["env"][1]
        ["valueFrom"]["secretKeyRef"].__setitem__("key", "db-url")),
    ("sentinel", lambda o: get(o, "ConfigMap", "sentinel-config")["data"].__setitem__("SENTINEL_METRICS_PORT", "9100")),
    ("sentinel", lambda o: get(o, "ConfigMap", "sentinel-config")["data"].__setitem__("SENTINEL_LISTEN_ADDRESS", "127.0.0.1")),
    ("sentinel", lambda o: get(o, "Deployment", "sentinel-worker")["spec"]["template"]["spec"]["containers"][0]
        ["securityContext"].__setitem__("privileged", True)),
    ("sentinel", lambda o: get(o, "Deployment", "sentinel-api")["spec"]["template"]["spec"]["containers"][0]
        ["securityContext"]["capabilities"].__setitem__("add", ["NET_BIND_SERVICE"])),
    ("sentinel", lambda o: get(o, "ScaledObject", "sentinel-worker")["spec"]["triggers"][0]["metadata"].__setitem__(
        "queueName", "jobs")),
    ("sentinel", lambda o: get(o, "ScaledObject", "sentinel-worker")["spec"]["advanced"]["horizontalPodAutoscalerConfig"]
        ["behavior"].pop("scaleDown")),
    ("topology", lambda o: get(o, "StatefulSet", "rabbitmq")["spec"].__setitem__("replicas", 1)),
    ("topology", lambda o: o.remove(get(o, "LimitRange", "sentinel-limits"))),
    ("topology", lambda o: get(o, "Ingress", "sentinel")["metadata"]["annotations"].pop("cert-manager.io/cluster-issuer")),
    ("capacity", lambda o: get(o, "ScaledObject", "sentinel-worker")["spec"].__setitem__("maxReplicaCount", 500)),
    ("capacity", lambda o: get(o, "ScaledObject", "sentinel-worker")["spec"]["triggers"][0]["metadata"].__setitem__("value", "8")),
    ("capacity", lambda o: get(o, "ConfigMap", "sentinel-config")["data"].__setitem__("SENTINEL_MAX_MEMORY_KB", "4194304")),
    ("network", lambda o: get(o, "NetworkPolicy", "sentinel-worker")["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})),
    ("network", lambda o: get(o, "NetworkPolicy", "redis")["spec"]["ingress"].pop(0)),
    ("network", lambda o: get(o, "NetworkPolicy", "default-deny")["spec"].__setitem__("egress", [{}])),
    ("network", lambda o: o.remove(get(o, "NetworkPolicy", "acme-http01-solver"))),
]


@pytest.mark.parametrize("what,breakage", BREAKAGES)
def test_k8s_checks_can_fail(what, breakage):
    objs = copy.deepcopy(kustomize("prod"))
    breakage(objs)
    check = {"objects": check_objects, "sentinel": lambda o: check_sentinel(o, "prod"),
             "topology": lambda o: check_topology(o, "prod"), "network": check_network,
             "capacity": check_capacity}[what]
    assert check(objs)


def test_dev_secret_has_the_template_keys():
    """The dev overlay's generated Secret and the template prod expects carry the same keys."""
    t = yaml.safe_load((K8S / "base" / "secrets.template.yaml").read_text())
    dev = get(kustomize("dev"), "Secret", t["metadata"]["name"])
    assert dev and set(dev["data"]) == set(t["stringData"])
