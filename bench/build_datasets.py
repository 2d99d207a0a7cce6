"""How long do the generated datasets take to build at their default settings (the issue's budget:
under 5 s)? Each is built ``--repeat`` times in this process after one warm-up build; prints the
median and the slowest, in seconds, and the load average.

    python bench/build_datasets.py              # minesweeper
    python bench/build_datasets.py --only minesweeper,dictionary_lookup --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="minesweeper", help="comma-separated generated dataset names")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from gnnviz.config import load_config
    from gnnviz.datasets import generated_params, load_dataset

    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for name in args.only.split(","):
        cfg = load_config(None, [f"dataset.name={name}"])
        params = generated_params(cfg.dataset)
        load_dataset(name, params=params)  # warm-up: imports, first allocations
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            ds = load_dataset(name, params=params)
            times.append(time.perf_counter() - t)
        g = ds.train[0]
        print(
            f"{name}: {g.num_nodes:,} nodes, {g.edge_index.size(1):,} directed edges; "
            f"build median {statistics.median(times):.3f} s, slowest {max(times):.3f} s over {args.repeat}"
        )


if __name__ == "__main__":
    main()
