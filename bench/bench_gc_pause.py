"""How long a full garbage collection stalls the IVR server, with and without ``gc.freeze``.

Loads the IVR as the server's start-up does (``callscope.ivr.routes.warm_up``: database,
knowledge base, encoders, sentiment) and waits for the knowledge-base-tuned encoder the server
trains in the background, then times full collections (``gc.collect()``): each one
holds the interpreter lock, so every webhook in flight waits for it. ``warm_up`` ends with
``gc.freeze()``; this bench measures the collections before and after that step.

    python bench/bench_gc_pause.py
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from unittest import mock


def full_collection_ms(repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        gc.collect()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def main() -> None:
    os.environ.setdefault("CALLSCOPE_DATA_DIR", tempfile.mkdtemp(prefix="callscope-bench-gc-"))
    from callscope.context import Context
    from callscope.ivr import deps, routes
    from callscope.settings import Settings

    ctx = Context(Settings())
    with mock.patch.object(routes.gc, "freeze"):  # load as warm_up does, without its freeze
        routes.warm_up(ctx)
        settings = ctx.settings
        matcher = deps.matcher_for(deps.kb_source_for(settings, deps.actions_for(settings)), settings)
        matcher.tune(wait=True)  # the server's state once the background training is done
        matcher.warm()
    tracked = len(gc.get_objects())
    before = full_collection_ms()
    gc.freeze()
    frozen = gc.get_freeze_count()
    after = full_collection_ms()
    print("| objects tracked after warm-up | full collection, no freeze | frozen objects | full collection after gc.freeze |")
    print("|---|---|---|---|")
    print(f"| {tracked:,} | {before:.0f} ms | {frozen:,} | {after:.1f} ms |")
    ctx.close()


if __name__ == "__main__":
    main()
