#!/usr/bin/env python3
"""Writes traces/prometheus_web_requests_1d.json, the Prometheus export the tuning guide's
worked example starts from: what

    curl -G http://prometheus:9090/api/v1/query_range \
      --data-urlencode 'query=sum by (instance) (rate(http_requests_total{job="web"}[1m]))' \
      --data-urlencode start=2024-03-04T00:00:00Z --data-urlencode end=2024-03-04T23:59:00Z \
      --data-urlencode step=60s

returns for a web service of three instances: per-second request rates as strings, a day of a
weekday's curve (a morning rise, a lunch peak, an evening flash sale), a scrape gap (NaN) on
one instance, and the `warnings` field Prometheus adds. Seeded: the same file every time.
"""
import json
import math
import random
import sys

START = 1709510400  # 2024-03-04T00:00:00Z, a Monday
STEP = 60
SAMPLES = 1440


def rate(t, share):
    h = (t - START) / 3600.0
    base = 1.0 + 5.0 * max(0.0, math.sin(math.pi * (h - 6.0) / 16.0)) if 6 <= h <= 22 else 1.0
    lunch = 3.0 * math.exp(-((h - 12.5) ** 2) / 0.5)
    flash = 10.0 * math.exp(-((h - 19.0) ** 2) / 0.02) if h >= 18.8 else 0.0
    return share * (base + lunch + flash)


def main(out):
    rng = random.Random(20240304)
    result = []
    for inst, share in (("10.0.1.11:8080", 0.36), ("10.0.1.12:8080", 0.33), ("10.0.1.13:8080", 0.31)):
        values = []
        for i in range(SAMPLES):
            t = START + i * STEP
            v = max(0.0, rate(t, share) * rng.uniform(0.9, 1.1))
            text = "NaN" if inst.startswith("10.0.1.12") and 611 <= i <= 613 else repr(round(v, 6))
            values.append([t, text])
        result.append({"metric": {"instance": inst, "job": "web"}, "values": values})
    doc = {
        "status": "success",
        "data": {"resultType": "matrix", "result": result},
        "warnings": ["a scrape of 10.0.1.12:8080 timed out at 10:11-10:13 (NaN samples)"],
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "traces/prometheus_web_requests_1d.json")
