#!/usr/bin/env python3
"""Writes a large Prometheus /api/v1/query_range response, for measuring `scaler-sim import prometheus`.

    python3 docs/scripts/gen_prometheus_response.py --samples 10000000 --series 100 -o prom_10M.json

The response has the shape Prometheus writes: {"status":"success","data":{"resultType":"matrix",
"result":[{"metric":{...},"values":[[<float epoch seconds>,"<value>"],...]},...]}}; values are
strings (per-second rates with up to 4 decimals, about one in a thousand "NaN"); every series
shares one grid of --step-s seconds starting at --start. Deterministic for a given --seed.
"""

import argparse
import random
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000_000, help="samples in all (default 10M)")
    ap.add_argument("--series", type=int, default=100, help="series (default 100)")
    ap.add_argument("--step-s", type=int, default=15, help="seconds between samples (default 15)")
    ap.add_argument("--start", type=float, default=1_700_000_000.0, help="first timestamp, epoch seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", required=True, help="the file to write")
    a = ap.parse_args()
    if a.series < 1 or a.samples < a.series or a.step_s < 1:
        ap.error("need --series >= 1, --samples >= --series and --step-s >= 1")
    rng = random.Random(a.seed)
    per = a.samples // a.series
    # Timestamps as Prometheus prints them (a float with up to 3 decimals; whole seconds here).
    stamps = [f"{a.start + i * a.step_s:.3f}".rstrip("0").rstrip(".") for i in range(per)]
    with open(a.out, "w", encoding="ascii") as f:
        f.write('{"status":"success","data":{"resultType":"matrix","result":[')
        for s in range(a.series):
            if s:
                f.write(",")
            f.write('{"metric":{"__name__":"http_requests:rate1m","job":"api","instance":"10.0.%d.%d:8080"},"values":['
                    % (s // 256, s % 256))
            base = rng.uniform(0.5, 20.0)
            vals = []
            for t in stamps:
                r = rng.random()
                v = "NaN" if r < 0.001 else f"{base * (0.5 + r):.4f}"
                vals.append(f'[{t},"{v}"]')
            f.write(",".join(vals))
            f.write("]}")
        f.write("]}}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
