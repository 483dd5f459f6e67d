#!/usr/bin/env python3
"""Helpers for benches/controller.sh (run under tests/cluster/with-cluster.sh).

Subcommands (arguments are KEY=VALUE, see each function):
  poll            the per-phase poller: controller liveness, VmHWM, /healthz, its /metrics
                  counters, all-Synced (phase "first"), idle again (phase "restart"), CPU seconds
  api-snap OUT    scrape the kube-apiserver's own apiserver_request_total (+ server CPU)
  api-delta       the difference of two snapshots, minus the bench's own requests, per object
  churn           N merge-patches of pre-sealed SealedSecrets at a fixed rate; latency until
                  the new value is in the Secret (a watch on all Secrets)
  gen-inputs      the N Secrets (3 items each) the bench seals
  make-updates    pre-sealed updates (a new password each) for churn / re-apply, as JSON lines
  gen-unrelated   unrelated 4 KiB Opaque Secrets, in namespaces of their own
  derive          add the derived numbers to one results row (stdin -> stdout)
  table           results.jsonl -> the Markdown tables
Only the admin client certificate of the test cluster is used; nothing listens anywhere.
"""
import base64
import http.client
import json
import math
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

CDIR = os.environ.get("TEST_CLUSTER_DIR", "")
CLK = os.sysconf("SC_CLK_TCK")
# The resources whose requests are reported per object; everything else is summed as "other".
REPORTED = ("secrets", "sealedsecrets", "sealedsecrets/status", "events")
# apiserver_request_total says POST / PUT; the table says what they are.
VERB_NAMES = {"POST": "CREATE", "PUT": "UPDATE"}
VERB_ORDER = ("GET", "LIST", "WATCH", "CREATE", "UPDATE", "PATCH", "APPLY", "DELETE")


def kv(argv):
    return dict(a.split("=", 1) for a in argv)


def server_url():
    return open(f"{CDIR}/server-url").read().strip()


def tls_context():
    ctx = ssl.create_default_context(cafile=f"{CDIR}/ca.crt")
    ctx.load_cert_chain(f"{CDIR}/admin.crt", f"{CDIR}/admin.key")
    return ctx


def ua(role):  # the bench's own requests carry this, so the audit log can tell them apart
    return {"User-Agent": f"controller-bench/{role}"}


def https_connection(timeout=30):
    u = urllib.parse.urlsplit(server_url())
    return http.client.HTTPSConnection(u.hostname, u.port, context=tls_context(), timeout=timeout)


# --- CPU accounting -------------------------------------------------------------------------
def cpu_of(p):  # utime + stime of one process, seconds
    if p is None:
        return None
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / CLK
    except (OSError, IndexError, ValueError):
        return None


def busy_all():  # busy CPU seconds of the whole machine (all cores), from /proc/stat
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / CLK


def cluster_pids():  # this cluster's servers: their command lines name the run dir
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            comm = open(f"/proc/{d}/comm").read().strip()
            if comm in ("kube-apiserver", "etcd", "kube-controller") and \
                    CDIR in open(f"/proc/{d}/cmdline").read():
                found[{"kube-controller": "kcm"}.get(comm, comm)] = int(d)
        except OSError:
            pass
    return found


def cpu_snapshot(servers, pid):
    snap = {k: cpu_of(v) for k, v in servers.items()}
    snap["controller"] = cpu_of(pid)
    snap["poller"] = sum(os.times()[:2])
    snap["all"] = busy_all()
    snap["wall"] = time.time()
    return snap


def cpu_delta(cpu0, cpu1):
    d = {k: round(cpu1[k] - cpu0[k], 2) for k in cpu1
         if cpu1.get(k) is not None and cpu0.get(k) is not None}
    # "others": whatever else ran on the machine meanwhile (other builds, benches).
    d["others"] = round(d["all"] - sum(v for k, v in d.items() if k not in ("all", "wall")), 2)
    return d


# --- the poller -----------------------------------------------------------------------------
def cmd_poll(argv):
    """Every 50 ms: is the PID alive, has it exec'd the controller binary yet
    (run-bitnami-controller.sh runs kubectl before it execs), VmHWM/VmRSS, and /healthz until
    it first answers. Every 250 ms: the unseal (and, ours only, RSA) counters from /metrics.
    Phase "first" only: one list, then one watch, of all SealedSecrets as server-side Table rows
    with metadata (Synced is conditions[0].status in both CRDs' printer columns), started before
    the controller; "all Synced" is the time of the event that makes the count N. A watch, not a
    list every POLL s: exact to the event, and its API server cost does not grow with N × time.
    The list and the watch are reported as this poller's own API requests; POLL is only the
    timeline's step. Times are seconds since exec of the controller binary."""
    a = kv(argv)
    n, mode = int(a["n"]), a["mode"]
    timeout, poll = float(a["timeout"]), float(a["poll"])
    exe_name, out, direct = a["exe"], a["out"], a["direct"] == "1"
    table_path = "/apis/bitnami.com/v1alpha1/sealedsecrets?includeObject=Metadata"
    table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io"
    unseal_re = re.compile(r"^sealed_secrets_controller_unseal_requests_total(?:\{[^}]*\})?\s+(\S+)", re.M)
    rsa_re = re.compile(r"^sealed_secrets_controller_rsa_operations_total(?:\{[^}]*\})?\s+(\S+)", re.M)

    def get(url, to=2.0):  # the controller's own HTTP endpoints, on loopback
        req = urllib.request.Request(url, headers=ua("poll"))
        with urllib.request.urlopen(req, timeout=to) as r:
            return r.status, r.read()

    own = {}
    lock = threading.Lock()
    follow = {"synced": {}, "col": None, "all_at": None, "closing": False, "conn": None}

    def row_key(row):
        m = row["object"]["metadata"]
        return m.get("namespace"), m["name"]

    def take_rows(rows, deleted=False):  # with the lock held; the time an event arrived
        for row in rows:
            if deleted:
                follow["synced"].pop(row_key(row), None)
            else:
                follow["synced"][row_key(row)] = row["cells"][follow["col"]] == "True"
        if follow["all_at"] is None and sum(follow["synced"].values()) >= n:
            follow["all_at"] = time.time()

    def list_then_watch():  # (re)list, then watch from there until closed or done
        while not follow["closing"]:
            conn = https_connection(timeout=30)
            conn.request("GET", table_path, headers={**ua("poll"), "Accept": table_accept})
            resp = conn.getresponse()
            body = resp.read()
            with lock:
                own["sealedsecrets LIST"] = own.get("sealedsecrets LIST", 0) + 1
            if resp.status != 200:
                raise SystemExit(f"poll: list answered {resp.status}: {body[:300]!r}")
            t = json.loads(body)
            with lock:
                follow["col"] = [c["name"] for c in t["columnDefinitions"]].index("Synced")
                follow["synced"] = {}
                take_rows(t.get("rows") or [])
            rv = t["metadata"]["resourceVersion"]
            conn.close()
            wconn = https_connection(timeout=None)
            follow["conn"] = wconn
            wconn.request("GET", f"{table_path}&watch=1&resourceVersion={rv}"
                          f"&timeoutSeconds={int(timeout) + 300}",
                          headers={**ua("poll"), "Accept": table_accept})
            wresp = wconn.getresponse()
            with lock:
                own["sealedsecrets WATCH"] = own.get("sealedsecrets WATCH", 0) + 1
            if wresp.status != 200:
                raise SystemExit(f"poll: watch answered {wresp.status}")
            try:
                for line in wresp:
                    ev = json.loads(line)
                    if ev.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
                        if ev.get("type") == "ERROR":
                            break  # expired: list again
                        continue
                    with lock:
                        take_rows(ev["object"].get("rows") or [], ev["type"] == "DELETED")
                        if follow["all_at"] is not None:
                            return
            except Exception as e:  # the main thread closes the connection at the end
                if follow["closing"]:
                    return
                print(f"poll: watch ended: {e!r}; listing again", file=sys.stderr)
            wconn.close()

    def synced_count():
        with lock:
            return len(follow["synced"]), sum(follow["synced"].values())

    def proc_status():
        try:
            with open(f"/proc/{pid}/status") as f:
                d = dict(line.split(":", 1) for line in f if ":" in line)
            return int(d["VmHWM"].split()[0]), int(d["VmRSS"].split()[0])
        except (OSError, KeyError, ValueError):
            return None

    # Ready before the controller starts: the shell waits for this file, starts the
    # controller, then writes "PID SPAWN_TIME" into the pid file.
    servers = cluster_pids()
    follower = None
    if mode == "first":
        follower = threading.Thread(target=list_then_watch, daemon=True)
        follower.start()
        while True:  # the first list is in before the controller starts
            with lock:
                if follow["col"] is not None:
                    break
            if not follower.is_alive():
                raise SystemExit("poll: the list of SealedSecrets failed")
            time.sleep(0.01)
    open(a["ready"], "w").close()
    while not os.path.exists(a["pidfile"]):
        time.sleep(0.005)
    pid, t_spawn = open(a["pidfile"]).read().split()
    pid, t_spawn = int(pid), float(t_spawn)
    r = {"mode": mode, "n": n, "t_exec_after_spawn": None, "healthz": None, "synced": None,
         "idle": None, "metric_n": None, "metric_last": None, "rsa_last": None,
         "synced_last": None, "listed_last": None, "hwm_kib": 0, "exited": False,
         "timed_out": False, "timeout_s": timeout, "timeline": []}
    t_exec = None
    cpu0 = None
    last_metric = last_list = 0.0
    while True:
        now = time.time()
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            r["exited"] = True
            break
        if t_exec is None:
            if direct:  # started as the binary itself: no exec to wait for
                t_exec = t_spawn
            else:
                try:
                    if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == exe_name:
                        t_exec = now
                except OSError:
                    pass
            if t_exec is not None:
                r["t_exec_after_spawn"] = round(t_exec - t_spawn, 3)
                cpu0 = cpu_snapshot(servers, pid)
                if direct:
                    cpu0["controller"] = 0.0
        if t_exec is not None:
            el = now - t_exec
            st = proc_status()
            if st:
                r["hwm_kib"] = max(r["hwm_kib"], st[0])
            if r["healthz"] is None:
                try:
                    if get(a["healthz"], to=0.5)[0] == 200:  # timed at the answer, not the ask
                        r["healthz"] = round(time.time() - t_exec, 3)
                except Exception:
                    pass
            with lock:
                all_synced = follow["all_at"] is not None
            # Once all are Synced, once more at once: the counter (reconciles started) is at N
            # by then, and the phase ends at this tick.
            if now - last_metric >= 0.25 or (all_synced and r["metric_n"] is None):
                last_metric = now
                try:
                    text = get(a["metrics"], to=5)[1].decode()
                    m = unseal_re.search(text)
                    if m:
                        r["metric_last"] = int(float(m.group(1)))
                        if r["metric_n"] is None and r["metric_last"] >= n:
                            r["metric_n"] = round(time.time() - t_exec, 3)
                    m = rsa_re.search(text)
                    if m:
                        r["rsa_last"] = int(float(m.group(1)))
                except Exception:
                    pass
            if mode == "first" and r["synced"] is None:
                with lock:
                    all_at = follow["all_at"]
                if all_at is not None or now - last_list >= poll:
                    last_list = now
                    listed, synced = synced_count()
                    r["listed_last"], r["synced_last"] = listed, synced
                    if all_at is not None:
                        r["synced"] = round(all_at - t_exec, 3)
                    r["timeline"].append([round(el, 1), r["synced_last"], r["metric_last"],
                                          st[1] if st else None])
            elif mode == "restart" and now - last_list >= 5:
                last_list = now
                r["timeline"].append([round(el, 1), None, r["metric_last"], st[1] if st else None])
            done = (r["synced"] is not None) if mode == "first" else \
                (r["healthz"] is not None and r["metric_n"] is not None)
            if done and mode == "restart":
                # The counter counts reconciles *started*. The pass is over when the controller
                # has gone idle: < 20 ms CPU in a 1 s window, with no requests from here meanwhile.
                hist = [(time.time(), cpu_of(pid))]
                while hist[-1][1] is not None and hist[-1][0] - t_exec < timeout:
                    time.sleep(0.1)
                    hist.append((time.time(), cpu_of(pid)))
                    st = proc_status()
                    if st:
                        r["hwm_kib"] = max(r["hwm_kib"], st[0])
                    before = [h for h in hist if h[0] <= hist[-1][0] - 1.0]
                    if before and hist[-1][1] is not None and hist[-1][1] - before[-1][1] < 0.02:
                        r["idle"] = round(before[-1][0] - t_exec, 3)
                        break
            if done or el > timeout:
                r["timed_out"] = not done
                # CPU seconds used during the phase (exec .. end condition, or .. idle on
                # restart), per process and in all.
                r["cpu_s"] = cpu_delta(cpu0, cpu_snapshot(servers, pid))
                break
        elif now - t_spawn > 120:
            r["timed_out"] = True
            break
        time.sleep(0.05)
    if follower is not None:
        with lock:
            follow["closing"] = True
            wconn = follow["conn"]
        if wconn is not None and wconn.sock is not None:
            try:
                wconn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        follower.join(5)
        time.sleep(0.3)  # the API server counts a watch when it has ended
    with lock:
        r["own_requests"] = dict(own)
    json.dump(r, open(out, "w"))


# --- the API server's own request counter ---------------------------------------------------
REQ_RE = re.compile(r"^apiserver_request_total\{([^}]*)\}\s+(\S+)", re.M)
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def api_snapshot():
    conn = https_connection(timeout=60)
    conn.request("GET", "/metrics", headers=ua("api-snap"))
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"api-snap: /metrics answered {resp.status}")
    counts = {}
    for m in REQ_RE.finditer(body):
        labels = dict(LABEL_RE.findall(m.group(1)))
        res = labels.get("resource", "")
        if not res or labels.get("dry_run"):
            continue  # non-resource URLs (/metrics, /healthz, ...), dry runs
        if labels.get("subresource"):
            res += "/" + labels["subresource"]
        verb = VERB_NAMES.get(labels.get("verb", "?"), labels.get("verb", "?"))
        key = f"{res} {verb}"
        counts[key] = counts.get(key, 0) + int(float(m.group(2)))
    servers = cluster_pids()
    audit = os.environ.get("TEST_CLUSTER_AUDIT_LOG")
    return {"t": time.time(), "counts": counts,
            "cpu": {k: cpu_of(v) for k, v in servers.items()},
            "audit_log": audit, "audit_offset": os.path.getsize(audit) if audit and
            os.path.exists(audit) else None}


def cmd_api_snap(argv):
    json.dump(api_snapshot(), open(argv[0], "w"))


def client_of(user_agent):
    if user_agent.startswith(("controller-bench/", "kubectl/")):
        return "bench"
    if user_agent.startswith("kube-controller-manager/"):
        return "kube-controller-manager"
    if user_agent.startswith("kube-apiserver/"):
        return "kube-apiserver"
    return "controller"


def audit_breakdown(before, after):
    """Requests in the audit log between the two snapshots' offsets (stage ResponseComplete,
    as the metric counts them: a watch when it ends), by client: the bench (its user agents,
    kubectl), kube-controller-manager (its garbage collector GETs owners it has not seen yet),
    the API server itself, and everything else: the controller. The audit log says "patch" for
    server-side apply too."""
    path, o0, o1 = after.get("audit_log"), before.get("audit_offset"), after.get("audit_offset")
    if not path or o0 is None or o1 is None or o1 < o0:
        return None  # no log, or the API server rotated it in between
    out = {}
    with open(path, "rb") as f:
        f.seek(o0)
        data = f.read(o1 - o0)
    for line in data.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("stage") != "ResponseComplete":
            continue
        ref = e.get("objectRef") or {}
        res = ref.get("resource")
        if not res:
            continue
        if ref.get("subresource"):
            res += "/" + ref["subresource"]
        if res not in REPORTED:
            res = "other"
        c = out.setdefault(client_of(e.get("userAgent", "")), {})
        verbs = c.setdefault(res, {})
        verb = e.get("verb", "?").upper()
        verbs[verb] = verbs.get(verb, 0) + 1
    return out


def api_delta(before, after, owns, per):
    d = {}
    for k, v in after["counts"].items():
        x = v - before["counts"].get(k, 0)
        if x:
            d[k] = x
    own = {}
    for o in owns:
        for k, v in o.items():
            own[k] = own.get(k, 0) + v
    for k, v in own.items():
        d[k] = d.get(k, 0) - v
    by = {res: {} for res in REPORTED}
    other = {}
    for k, v in sorted(d.items()):
        res, verb = k.rsplit(" ", 1)
        if v == 0:
            continue
        if res in by:
            by[res][verb] = v
        else:
            other[k] = v
    cpu = {k: round(after["cpu"][k] - before["cpu"][k], 2) for k in after["cpu"]
           if after["cpu"].get(k) is not None and before["cpu"].get(k) is not None}
    out = {"requests": by, "requests_total": sum(sum(v.values()) for v in by.values()),
           "other_requests": other, "own_subtracted": own,
           "wall_s": round(after["t"] - before["t"], 2), "server_cpu_s": cpu}
    audit = audit_breakdown(before, after)
    if audit is not None:
        out["audit_by_client"] = audit
        out["audit_totals"] = {c: sum(n for res, vs in by_res.items() if res != "other"
                                      for n in vs.values()) for c, by_res in audit.items()}
    if per:
        out["objects"] = per
        if audit is not None:
            out["audit_per_object"] = {c: round(n / per, 3) for c, n in out["audit_totals"].items()}
        out["per_object"] = {res: {verb: round(v / per, 3) for verb, v in verbs.items()}
                             for res, verbs in by.items()}
        out["per_object_total"] = round(out["requests_total"] / per, 3)
        out["apiserver_etcd_cpu_ms_per_object"] = round(
            1000 * (cpu.get("kube-apiserver", 0) + cpu.get("etcd", 0)) / per, 2)
    return out


def cmd_api_delta(argv):
    """api-delta before=F after=F per=N [own=JSON_FILE:KEY ...] -> JSON on stdout. own files
    name the bench's own requests (the poller's lists, the churn driver's patches and watch),
    taken from KEY of a JSON file (repeatable)."""
    before = after = None
    per = 0
    owns = []
    for arg in argv:
        k, v = arg.split("=", 1)
        if k == "before":
            before = json.load(open(v))
        elif k == "after":
            after = json.load(open(v))
        elif k == "per":
            per = int(v)
        elif k == "own":
            f, key = v.rsplit(":", 1)
            owns.append(json.load(open(f)).get(key) or {})
    json.dump(api_delta(before, after, owns, per), sys.stdout)


# --- churn ----------------------------------------------------------------------------------
def percentile(sorted_vals, q):  # nearest rank; inf (not seen) gives None
    if not sorted_vals:
        return None
    v = sorted_vals[max(0, math.ceil(q * len(sorted_vals)) - 1)]
    return None if math.isinf(v) else round(v * 1000, 1)


def cmd_churn(argv):
    """churn updates=JSONL count=K rate=R drain=S pid=CONTROLLER_PID out=F
    Sends K merge-patches (spec.encryptedData of a pre-sealed SealedSecret) at R per second on
    one persistent connection, and watches all Secrets (from the current resourceVersion, so no
    initial events) on another. Latency of an update: from just before its PATCH is sent to the
    watch event that carries its value. A later update of the same object that shows up first
    also counts for the earlier ones ("superseded"). After the last PATCH it waits up to S s for
    the missing ones; those count as infinitely late in the percentiles."""
    a = kv(argv)
    updates = [json.loads(line) for line in open(a["updates"])]
    count = min(int(a["count"]), len(updates))
    rate, drain = float(a["rate"]), float(a["drain"])
    pid = int(a["pid"]) if a.get("pid") else None
    servers = cluster_pids()

    pconn = https_connection(timeout=30)
    pconn.request("GET", "/api/v1/secrets?limit=1", headers=ua("churn"))
    resp = pconn.getresponse()
    rv = json.loads(resp.read())["metadata"]["resourceVersion"]
    wconn = https_connection(timeout=None)
    wconn.request("GET", "/api/v1/secrets?watch=1&allowWatchBookmarks=false"
                  f"&resourceVersion={rv}&timeoutSeconds={int(count / rate + drain + 120)}",
                  headers=ua("churn"))
    wresp = wconn.getresponse()
    if wresp.status != 200:
        raise SystemExit(f"churn: watch answered {wresp.status}: {wresp.read()[:500]!r}")

    lock = threading.Lock()
    pending = {}  # (ns, name) -> [(index, expected data)], oldest first
    sent_at = {}
    seen = {}  # index -> (time, superseded)
    events = [0]
    closing = threading.Event()

    def watcher():
        try:
            for line in wresp:
                t = time.time()
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("type") not in ("ADDED", "MODIFIED"):
                    continue
                obj = ev["object"]
                key = (obj["metadata"].get("namespace"), obj["metadata"]["name"])
                data = obj.get("data") or {}
                with lock:
                    events[0] += 1
                    lst = pending.get(key)
                    if not lst:
                        continue
                    for j in range(len(lst) - 1, -1, -1):
                        idx, exp = lst[j]
                        if all(data.get(k) == v for k, v in exp.items()):
                            for idx2, _ in lst[:j + 1]:
                                seen[idx2] = (t, idx2 != idx)
                            del lst[:j + 1]
                            break
        except Exception as e:  # the main thread closes the connection at the end
            if not closing.is_set():
                print(f"churn: watch ended: {e!r}", file=sys.stderr)

    th = threading.Thread(target=watcher, daemon=True)
    th.start()
    cpu0 = cpu_snapshot(servers, pid)
    rtts, errors = [], 0
    t0 = time.time()
    for i in range(count):
        delay = t0 + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        u = updates[i]
        path = (f"/apis/bitnami.com/v1alpha1/namespaces/{u['ns']}/sealedsecrets/{u['name']}")
        body = json.dumps({"spec": {"encryptedData": u["encryptedData"]}})
        with lock:
            pending.setdefault((u["ns"], u["name"]), []).append((i, u["expect"]))
            sent_at[i] = ts = time.time()
        try:
            pconn.request("PATCH", path, body,
                          {"Content-Type": "application/merge-patch+json", **ua("churn")})
            resp = pconn.getresponse()
            resp.read()
            if resp.status != 200:
                errors += 1
                print(f"churn: PATCH {path}: {resp.status}", file=sys.stderr)
        except (OSError, http.client.HTTPException) as e:
            errors += 1
            print(f"churn: PATCH {path}: {e}", file=sys.stderr)
            pconn.close()
            pconn = https_connection(timeout=30)
        rtts.append(time.time() - ts)
    t_sent = time.time()
    while time.time() < t_sent + drain:
        with lock:
            if len(seen) >= count:
                break
        time.sleep(0.05)
    t_end = time.time()
    cpu = cpu_delta(cpu0, cpu_snapshot(servers, pid))
    closing.set()
    try:
        wconn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    wconn.close()
    pconn.close()
    th.join(5)
    with lock:
        lat = sorted(seen[i][0] - sent_at[i] if i in seen else math.inf for i in range(count))
        superseded = sum(1 for v in seen.values() if v[1])
        n_seen = len(seen)
    rtts.sort()
    r = {"updates": count, "rate": rate, "sent_s": round(t_sent - t0, 2),
         "achieved_rate": round(count / (t_sent - t0), 2) if t_sent > t0 and count > 1 else None,
         "patch_errors": errors, "seen": n_seen, "missing": count - n_seen,
         "superseded": superseded, "drain_s": drain,
         "waited_after_last_s": round(t_end - t_sent, 2),
         "latency_ms": {"p50": percentile(lat, 0.50), "p90": percentile(lat, 0.90),
                        "p99": percentile(lat, 0.99), "max": percentile(lat, 1.0),
                        "min": percentile(lat, 0.0)},
         "patch_rtt_ms": {"p50": percentile(rtts, 0.5), "p99": percentile(rtts, 0.99)},
         "watch_events": events[0], "cpu_s": cpu,
         "own_requests": {"sealedsecrets PATCH": count, "secrets LIST": 1, "secrets WATCH": 1}}
    json.dump(r, open(a["out"], "w"))


# --- inputs ---------------------------------------------------------------------------------
def b64(s):
    return base64.b64encode(s.encode()).decode()


def secret_doc(i, ns, password):
    return ("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s-%05d\n  namespace: %s\n"
            "type: Opaque\ndata:\n  username: %s\n  password: %s\n  config.json: %s\n"
            % (i, ns, b64("user%05d" % i), b64(password),
               b64('{"replicas":3,"region":"eu-west-1","id":%d,"debug":false}' % i)))


def cmd_gen_inputs(argv):
    """gen-inputs N NAMESPACES CHUNK DIR: DIR/in-NNNN.yaml, CHUNK Secrets each, round-robin
    over bench-0..bench-(NAMESPACES-1)."""
    n, k, chunk, d = int(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    for c in range(0, n, chunk):
        with open(f"{d}/in-{c // chunk:04d}.yaml", "w") as f:
            for i in range(c, min(n, c + chunk)):
                f.write(secret_doc(i, "bench-%d" % (i % k), "pw-%06d-Xq7!vR2#kL9@mN4$" % i))


def cmd_make_updates(argv):
    """make-updates seal=BIN cert=PEM n=N namespaces=K count=C out=JSONL [tag=T]
    C updates, update i to object i mod N, each with a new password, sealed in one `seal` run;
    one JSON line each: ns, name, encryptedData, expect (the new password, base64)."""
    a = kv(argv)
    n, k, count = int(a["n"]), int(a["namespaces"]), int(a["count"])
    tag = a.get("tag", "u")
    docs, expect = [], []
    for i in range(count):
        o = i % n
        pw = "%s-%05d-%s" % (tag, i, secrets.token_hex(8))
        docs.append(secret_doc(o, "bench-%d" % (o % k), pw))
        expect.append(("bench-%d" % (o % k), "s-%05d" % o, b64(pw)))
    out = subprocess.run([a["seal"], "--cert", a["cert"], "-o", "json"], input="".join(docs),
                         capture_output=True, text=True, check=True).stdout
    dec, pos, sealed = json.JSONDecoder(), 0, []
    while True:
        while pos < len(out) and out[pos].isspace():
            pos += 1
        if pos >= len(out):
            break
        obj, pos = dec.raw_decode(out, pos)
        sealed.extend(obj["items"] if obj.get("kind") == "List" else [obj])
    if len(sealed) != count:
        raise SystemExit(f"make-updates: seal wrote {len(sealed)} objects, expected {count}")
    with open(a["out"], "w") as f:
        for ss, (ns, name, pw) in zip(sealed, expect):
            md = ss["metadata"]
            if (md.get("namespace"), md["name"]) != (ns, name):
                raise SystemExit(f"make-updates: order mismatch at {md}")
            f.write(json.dumps({"ns": ns, "name": name, "encryptedData": ss["spec"]["encryptedData"],
                                "expect": {"password": pw}}) + "\n")


def cmd_gen_unrelated(argv):
    """gen-unrelated START COUNT PER_NS CHUNK DIR: Secrets un-NNNNNN (START..START+COUNT-1),
    each 4 KiB of random bytes in one item, in namespace unrel-(index // PER_NS);
    DIR/unrel-NNNN.yaml of CHUNK each. Prints the namespaces used, one per line."""
    start, count, per_ns, chunk = (int(x) for x in argv[:4])
    d = argv[4]
    nss = set()
    for c in range(start, start + count, chunk):
        with open(f"{d}/unrel-{c // chunk:04d}.yaml", "w") as f:
            for i in range(c, min(start + count, c + chunk)):
                ns = "unrel-%03d" % (i // per_ns)
                nss.add(ns)
                f.write("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: un-%06d\n"
                        "  namespace: %s\ntype: Opaque\ndata:\n  blob: %s\n"
                        % (i, ns, base64.b64encode(os.urandom(4096)).decode()))
    print("\n".join(sorted(nss)))


# --- results --------------------------------------------------------------------------------
def g(d, *path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def writes(api):  # CREATE/UPDATE/PATCH/APPLY on secrets
    req = g(api, "requests", "secrets") or {}
    return sum(v for k, v in req.items() if k in ("CREATE", "UPDATE", "PATCH", "APPLY"))


def cmd_derive(argv):
    """derive rsa_ms=MS: one results row on stdin, the same with "derived" on stdout."""
    a = kv(argv)
    rsa_ms = float(a["rsa_ms"]) if a.get("rsa_ms") else None
    row = json.loads(sys.stdin.read())
    row["rsa_ms"] = rsa_ms
    n = row["n"]
    items = 3 * n
    # The floor measured just before and just after this row's first sync, when there is one:
    # the lower of the two, since the machine's speed drifts within a run.
    local = [x for x in row.get("rsa_ms_local") or [] if isinstance(x, (int, float)) and x > 0]
    floor = min(local) if local else rsa_ms
    dv = {"items": items, "rsa_ms_used": floor}

    def floor_ratio(cpu, nitems):
        if cpu is None or not floor or not nitems:
            return None
        return round(cpu / (nitems * floor / 1000), 2)

    for ph in ("first", "restart"):
        cpu = g(row, ph, "cpu_s")
        if cpu:
            dv[f"{ph}_cpu_controller_s"] = cpu.get("controller")
            dv[f"{ph}_cpu_over_rsa_floor"] = floor_ratio(cpu.get("controller"), items)
            dv[f"{ph}_apiserver_etcd_cpu_ms_per_object"] = round(
                1000 * (cpu.get("kube-apiserver", 0) + cpu.get("etcd", 0)) / n, 2)
        api = row.get(f"{ph}_api")
        if api:
            dv[f"{ph}_requests_per_object"] = api.get("per_object_total")
            dv[f"{ph}_secret_writes"] = writes(api)
    ch = row.get("churn")
    if isinstance(ch, dict) and ch.get("updates"):
        u = ch["updates"]
        cpu = ch.get("cpu_s") or {}
        dv["churn_p50_ms"] = g(ch, "latency_ms", "p50")
        dv["churn_p99_ms"] = g(ch, "latency_ms", "p99")
        dv["churn_controller_cpu_ms_per_update"] = round(1000 * cpu.get("controller", 0) / u, 2)
        dv["churn_cpu_over_rsa_floor"] = floor_ratio(cpu.get("controller"), 3 * u)
        dv["churn_apiserver_etcd_cpu_ms_per_update"] = round(
            1000 * (cpu.get("kube-apiserver", 0) + cpu.get("etcd", 0)) / u, 2)
        if row.get("churn_api"):
            dv["churn_requests_per_update"] = row["churn_api"].get("per_object_total")
    kc = row.get("keychange")
    if isinstance(kc, dict) and kc.get("api"):
        dv["keychange_secret_writes"] = writes(kc["api"])
        dv["keychange_requests_per_object"] = kc["api"].get("per_object_total")
    if row.get("phase") == "keys":
        if row.get("rsa_first") is not None:
            dv["rsa_per_item_first"] = round(row["rsa_first"] / items, 2)
        if row.get("rsa_reapply") is not None:
            dv["rsa_per_item_reapply"] = round(row["rsa_reapply"] / 3, 2)
    row["derived"] = dv
    print(json.dumps(row, separators=(",", ":")))


def fmt_s(v):
    if v is None:
        return "—"
    return f"{v:.2f} s" if v < 10 else f"{v:.1f} s"


def fmt_mib(kib):
    return "—" if not kib else f"{kib / 1024:.1f} MiB"


def fmt_n(v, digits=2):
    if v is None:
        return "—"
    if isinstance(v, int) or float(v).is_integer():
        return str(int(v))
    return f"{v:.{digits}f}"


def fmt_ms1(v):  # a derived ms figure, one decimal
    return "—" if v is None else f"{v:.1f} ms"


def fmt_ms(v, drain=None):
    if v is None:
        return f"> {drain:g} s (not seen)" if drain is not None else "—"
    return f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms"


def fmt_req(api, per_key="per_object"):
    """'secrets: GET 1, CREATE 1; sealedsecrets/status: UPDATE 1; …' per object."""
    if not api:
        return "—"
    parts = []
    for res in REPORTED:
        verbs = (api.get(per_key) or {}).get(res) or {}
        if not verbs:
            continue
        order = sorted(verbs, key=lambda v: (VERB_ORDER.index(v) if v in VERB_ORDER else 99, v))
        parts.append(f"{res}: " + ", ".join(f"{v} {fmt_n(verbs[v], 3)}" for v in order))
    return "; ".join(parts) or "none"


def first_cell(r):
    f = r.get("first") or {}
    if f.get("synced") is not None:
        return fmt_s(f["synced"])
    return (f"**not reached in {f.get('timeout_s', 0):g} s** ({f.get('synced_last')}/{r['n']} "
            f"Synced when it stopped)")


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def fmt_ratio(x, prefix=""):
    return "—" if x is None else f"{prefix}{x:.1f}×" if x >= 10 else f"{prefix}{x:.2f}×"


def cmd_table(argv):
    rows = [json.loads(line) for line in open(argv[0]) if line.strip()]
    main = [r for r in rows if r.get("phase", "main") == "main"]
    keys = [r for r in rows if r.get("phase") == "keys"]
    out = []
    p = out.append
    ran = [r for r in main if not r.get("skipped")]
    rsa_ms = next((r.get("rsa_ms") for r in rows if r.get("rsa_ms")), None)
    if rsa_ms:
        p(f"RSA floor: {rsa_ms:.3f} ms per RSA-4096 OAEP decryption (aws-lc-rs, "
          f"`shared/examples/rsa_floor.rs`, one core, the lower of the run's start and end; rows "
          f"measured beside their first sync use their own, see the CPU table); items = 3 per object.")
        p("")

    p("### First sync, restart, memory")
    p("")
    p("| controller | unrelated | N | first: /healthz | first: all Synced | first: counter = N "
      "| peak RSS first | restart: /healthz | restart: counter = N | restart: idle again "
      "| peak RSS restart | restart: Secret writes | restart: RSA ops |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in main:
        if r.get("skipped"):
            p(f"| {r['controller']} | {r['unrelated']} | {r['n']} | skipped: {r['skipped']} "
              "| | | | | | | | | |")
            continue
        f, rs = r.get("first") or {}, r.get("restart") or {}
        sk = rs.get("skipped")
        rsa = r.get("restart_rsa_ops")
        rsa_cell = "—" if rsa is None else fmt_n(rsa) + ("" if r.get("restart_rsa_source") == "counter"
                                                         else " (est.)")
        p(f"| {r['controller']} | {r['unrelated']} | {r['n']} | {fmt_s(f.get('healthz'))} "
          f"| {first_cell(r)} | {fmt_s(f.get('metric_n'))} | {fmt_mib(r.get('hwm_first_kib'))} "
          f"| {'skipped' if sk else fmt_s(rs.get('healthz'))} "
          f"| {'skipped' if sk else fmt_s(rs.get('metric_n'))} | {fmt_s(rs.get('idle'))} "
          f"| {fmt_mib(r.get('hwm_restart_kib'))} "
          f"| {'—' if sk else fmt_n(g(r, 'derived', 'restart_secret_writes'))} | {rsa_cell} |")
    p("")
    p("### CPU")
    p("")
    p("CPU seconds: controller / kube-apiserver+etcd / others. ÷ floor: controller CPU divided "
      "by items × the RSA floor. Floor: the RSA floor measured just before / just after this "
      "row's first sync, the lower used (the run's floor when the row has none). "
      "API CPU: kube-apiserver+etcd ms per object.")
    p("")
    p("| controller | unrelated | N | floor | first: wall | first: CPU s | first: ÷ floor "
      "| first: API CPU/obj | restart: wall | restart: CPU s | restart: ÷ floor "
      "| restart: API CPU/obj |")
    p("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |")

    def floor_cell(r):
        local = r.get("rsa_ms_local") or []
        if any(isinstance(x, (int, float)) for x in local):
            return " / ".join("—" if x is None else f"{x:.2f}" for x in local) + " ms"
        used = g(r, "derived", "rsa_ms_used")
        return f"{used:.2f} ms (run)" if used else "—"

    def cpu_cell(c):
        if not c:
            return "—"
        api = (c.get("kube-apiserver") or 0) + (c.get("etcd") or 0)
        return f"{fmt_n(c.get('controller'))} / {api:.2f} / {fmt_n(c.get('others'))}"

    for r in ran:
        d = r.get("derived") or {}
        fc, rc = g(r, "first", "cpu_s"), g(r, "restart", "cpu_s")
        cap = " (cap)" if g(r, "first", "timed_out") else ""
        p(f"| {r['controller']} | {r['unrelated']} | {r['n']} | {floor_cell(r)} "
          f"| {fmt_s(fc and fc.get('wall'))}{cap} | {cpu_cell(fc)} "
          f"| {fmt_n(d.get('first_cpu_over_rsa_floor'))} "
          f"| {fmt_ms1(d.get('first_apiserver_etcd_cpu_ms_per_object'))} "
          f"| {fmt_s(rc and rc.get('wall'))} | {cpu_cell(rc)} "
          f"| {fmt_n(d.get('restart_cpu_over_rsa_floor'))} "
          f"| {fmt_ms1(d.get('restart_apiserver_etcd_cpu_ms_per_object'))} |")
    p("")
    p("### API requests per object (kube-apiserver `apiserver_request_total` deltas, the bench's "
      "own requests subtracted)")
    p("")
    p("Total / object is the metric's, bench subtracted. The audit log splits the same window "
      "by client: controller / kube-controller-manager (its garbage collector) / bench.")
    p("")
    p("| controller | unrelated | N | phase | total / object | audit: controller / kcm / bench "
      "| by resource and verb (per object) |")
    p("| --- | ---: | ---: | --- | ---: | --- | --- |")
    for r in ran:
        for ph, label in (("first_api", "first sync"), ("restart_api", "restart"),
                          ("churn_api", "churn (per update)")):
            api = r.get(ph)
            if not api:
                continue
            if api.get("skipped"):
                continue
            done = ""
            if ph == "first_api" and api.get("objects") != r["n"]:
                done = f" (per object done: {api.get('objects')} of {r['n']}, capped)"
            au = api.get("audit_per_object")
            au_cell = "—" if au is None else " / ".join(
                fmt_n(au.get(c, 0), 3) for c in ("controller", "kube-controller-manager", "bench"))
            p(f"| {r['controller']} | {r['unrelated']} | {r['n']} | {label}{done} "
              f"| {fmt_n(api.get('per_object_total'), 3)} | {au_cell} | {fmt_req(api)} |")
    p("")
    p("### Steady churn")
    p("")
    p("| controller | unrelated | N | updates | achieved rate | p50 | p99 | max | not seen "
      "| superseded | controller CPU / update | API CPU / update | requests / update |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in ran:
        ch = r.get("churn")
        if not isinstance(ch, dict) or not ch.get("updates"):
            continue
        d = r.get("derived") or {}
        lat = ch.get("latency_ms") or {}
        dr = ch.get("drain_s")
        p(f"| {r['controller']} | {r['unrelated']} | {r['n']} | {ch['updates']} "
          f"| {fmt_n(ch.get('achieved_rate'))}/s | {fmt_ms(lat.get('p50'), dr)} "
          f"| {fmt_ms(lat.get('p99'), dr)} | {fmt_ms(lat.get('max'), dr)} | {ch.get('missing')} "
          f"| {ch.get('superseded')} | {fmt_ms1(d.get('churn_controller_cpu_ms_per_update'))} "
          f"| {fmt_ms1(d.get('churn_apiserver_etcd_cpu_ms_per_update'))} "
          f"| {fmt_n(d.get('churn_requests_per_update'), 3)} |")
    p("")
    kc_rows = [r for r in ran if isinstance(r.get("keychange"), dict)]
    if kc_rows:
        p("### Key change (ours: SIGUSR1 makes a new key while everything is current)")
        p("")
        p("Every object is looked at again; the reference does not look at its objects after a "
          "new key. Secret writes count the API server's writes of Secrets in the window: the "
          "new key Secret and the counts on the key Secrets are among them; bench Secrets "
          "changed compares every bench Secret's resourceVersion before and after.")
        p("")
        p("| controller | unrelated | N | looked at again | time | RSS before | RSS peak "
          "| RSS after | bench Secrets changed | Secret writes | RSA ops | requests / object |")
        p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in kc_rows:
            k = r["keychange"]
            d = r.get("derived") or {}
            p(f"| {r['controller']} | {r['unrelated']} | {r['n']} | {fmt_n(k.get('looked_at'))} "
              f"| {fmt_s(k.get('seconds'))} | {fmt_mib(k.get('rss_before_kib'))} "
              f"| {fmt_mib(k.get('rss_peak_kib'))} | {fmt_mib(k.get('rss_after_kib'))} "
              f"| {fmt_n(k.get('bench_secrets_changed'))} "
              f"| {fmt_n(d.get('keychange_secret_writes'))} | {fmt_n(k.get('rsa_ops'))} "
              f"| {fmt_n(d.get('keychange_requests_per_object'), 3)} |")
        p("")
    if keys:
        # A CPU-based estimate of RSA ops per item: controller CPU per item here over controller
        # CPU per item in the same variant's 1-key first sync at the smallest N without
        # unrelated Secrets (both include the per-object overhead, so it underestimates).
        def one_key_cpu_per_item(ctl):
            cands = [r for r in ran if r["controller"] == ctl and r.get("unrelated") == 0
                     and g(r, "first", "synced") is not None]
            if not cands:
                return None
            r = min(cands, key=lambda r: r["n"])
            return g(r, "first", "cpu_s", "controller") / (3 * r["n"])

        p("### Many keys")
        p("")
        p("| controller | keys | objects | first: all Synced | first: RSA ops / item "
          "| first: CPU / item | re-apply: latency | re-apply: RSA ops / item "
          "| re-apply: controller CPU |")
        p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in keys:
            if r.get("skipped"):
                p(f"| {r['controller']} | {r.get('keys')} | {r['n']} | skipped: {r['skipped']} "
                  "| | | | | |")
                continue
            d = r.get("derived") or {}
            fcpu = g(r, "first", "cpu_s", "controller")
            per_item = fcpu / (3 * r["n"]) if fcpu is not None else None
            base = one_key_cpu_per_item(r["controller"])
            est = f" (CPU est. {per_item / base:.1f})" if per_item and base else ""
            ra = r.get("reapply") or {}
            racpu = g(ra, "cpu_s", "controller")
            est2 = ""
            if racpu is not None and racpu >= 0.05 and base:  # 5 clock ticks at least
                est2 = f" (CPU est. {racpu / (3 * base):.1f})"
            rpf = d.get("rsa_per_item_first")
            rpr = d.get("rsa_per_item_reapply")
            p(f"| {r['controller']} | {r.get('keys')} | {r['n']} | {first_cell(r)} "
              f"| {'n/a' if rpf is None else fmt_n(rpf)}{est} "
              f"| {'—' if per_item is None else f'{per_item * 1000:.1f} ms'} "
              f"| {fmt_ms(g(ra, 'latency_ms', 'max'), ra.get('drain_s'))} "
              f"| {'n/a' if rpr is None else fmt_n(rpr)}{est2} "
              f"| {'—' if racpu is None else f'{racpu:.2f} s'} |")
        p("")
    # Ratios: the reference's number over ours, so > 1 is in our favour.
    p("### Ours against the reference (reference ÷ ours; > 1: ours is faster / smaller / fewer)")
    p("")
    p("| unrelated | N | against | first-sync speedup | controller CPU ratio | peak RSS ratio "
      "| requests / object ratio | restart (idle again) speedup |")
    p("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    by = {(r["controller"], r["unrelated"], r["n"]): r for r in ran}
    for (ctl, u, n), ours in sorted(((k, v) for k, v in by.items() if k[0] == "ours"),
                                    key=lambda kv_: (kv_[0][1], kv_[0][2])):
        for ref in ("bitnami-noqps", "bitnami"):
            rr = next((r for r in main if (r["controller"], r["unrelated"], r["n"]) == (ref, u, n)),
                      None)
            if rr is None:
                continue
            if rr.get("skipped"):
                p(f"| {u} | {n} | {ref} | skipped: {rr['skipped']} | | | | |")
                continue
            of, rf = ours.get("first") or {}, rr.get("first") or {}
            if rf.get("synced") is None:
                lo = ratio(rf.get("cpu_s", {}).get("wall"), of.get("synced"))
                speed = fmt_ratio(lo, "> ") + f" (reference not reached in {rf.get('timeout_s'):g} s)"
                cpu = "— (reference capped)"
            else:
                speed = fmt_ratio(ratio(rf.get("synced"), of.get("synced")))
                cpu = fmt_ratio(ratio(g(rf, "cpu_s", "controller"), g(of, "cpu_s", "controller")))
            rss = fmt_ratio(ratio(rr.get("hwm_first_kib"), ours.get("hwm_first_kib")))
            req = fmt_ratio(ratio(g(rr, "first_api", "per_object_total"),
                                  g(ours, "first_api", "per_object_total")))
            if rf.get("synced") is None:  # the reference's numbers cover the objects it did
                rss += f" (at {rf.get('synced_last')} done)"
                req += f" (per object done: {g(rr, 'first_api', 'objects')})"
            rst = fmt_ratio(ratio(g(rr, "restart", "idle"), g(ours, "restart", "idle")))
            p(f"| {u} | {n} | {ref} | {speed} | {cpu} | {rss} | {req} | {rst} |")
    print("\n".join(out))


COMMANDS = {"poll": cmd_poll, "api-snap": cmd_api_snap, "api-delta": cmd_api_delta,
            "churn": cmd_churn, "gen-inputs": cmd_gen_inputs, "make-updates": cmd_make_updates,
            "gen-unrelated": cmd_gen_unrelated, "derive": cmd_derive, "table": cmd_table}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(COMMANDS)} ARGS...")
    COMMANDS[sys.argv[1]](sys.argv[2:])
