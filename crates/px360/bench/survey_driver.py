"""Survey benchmark driver (see surveys.sh).

  survey_driver.py patients BASE TOKEN HOSPITAL DEPT N RUN      create N patients reachable by SMS
  survey_driver.py events BASE KEY N RATE_PER_MIN RUN           one ED_DEPARTURE per patient, paced
  survey_driver.py latency ARRIVALS COMPLETIONS                 join and print percentiles

Keeps one HTTP connection open (http.client), as an integration engine does.
"""
import hashlib
import http.client
import json
import sys
import time
import urllib.parse
from datetime import datetime


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def post(c, path, headers, body):
    c.request("POST", path, body=json.dumps(body), headers={"content-type": "application/json", **headers})
    r = c.getresponse()
    data = r.read()
    return r.status, data


def patients(base, token, hospital, dept, n, run):
    c = conn(base)
    for i in range(n):
        status, data = post(c, "/api/patients", {"authorization": "Bearer " + token}, {
            "mrn": "%s-%05d" % (run, i), "hospital_id": hospital, "department_id": dept,
            "preferred_language": "en", "phone": "+1555%07d" % i, "contact_channels": ["sms"]})
        if status != 201:
            sys.exit("patient %d: %d %s" % (i, status, data[:200]))


def events(base, key, n, rate, run):
    c = conn(base)
    gap = 60.0 / rate
    start = time.time()
    late = 0
    for i in range(n):
        due = start + i * gap
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        else:
            late += 1
        status, data = post(c, "/api/integrations/events/", {"x-api-key": key}, {
            "source_system": "EPIC", "event_code": "ED_DEPARTURE", "encounter_id": "%s-enc-%05d" % (run, i),
            "patient_identifier": "%s-%05d" % (run, i),
            "payload": {"department_code": "ED", "timestamp": datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}})
        if status != 202:
            sys.exit("event %d: %d %s" % (i, status, data[:200]))
    took = time.time() - start
    print("events sent=%d seconds=%.1f per_minute=%.0f behind_schedule=%d" % (n, took, n / took * 60, late))


def ts(s):
    return datetime.fromisoformat(s.strip().replace("Z", "+00:00")).timestamp()


def latency(arrivals, completions):
    completed = {}
    for line in open(completions):
        parts = line.strip().split("|")
        if len(parts) == 2 and parts[1]:
            completed[parts[0]] = ts(parts[1])
    v = []
    for line in open(arrivals):
        at, token = line.split()
        h = hashlib.sha256(token.encode()).hexdigest()
        if h in completed:
            v.append((float(at) - completed[h]) * 1000)
    if not v:
        sys.exit("no message matched a completed stage")
    v.sort()
    p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    print("stage_completed_to_provider n=%d p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f" % (len(v), p(.50), p(.95), p(.99), v[-1]))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "patients":
        patients(args[0], args[1], args[2], args[3], int(args[4]), args[5])
    elif cmd == "events":
        events(args[0], args[1], int(args[2]), float(args[3]), args[4])
    elif cmd == "latency":
        latency(args[0], args[1])
    else:
        sys.exit("unknown command " + cmd)
