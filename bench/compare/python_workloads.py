"""The workloads of `deno task bench:compare` on CPython's multiprocessing.

deno_workloads.ts and piscina_workloads.mjs beside this file run the same
workloads on @dmp/multiprocessing and on piscina; read them side by side.

    python3 bench/compare/python_workloads.py spawn|fork '<config JSON>'

The config (tools/_compare_report.ts: CompareConfig) says the sizes and the
number of runs. Progress goes to stderr; the last stdout line is the result
JSON: { system, runtime, results: { id: { samples, note? } },
errors: { id: message } }. Only the standard library is used.
"""

import json
import multiprocessing as mp
import os
import platform
import sys
import time
from multiprocessing import shared_memory

now = time.perf_counter


# ------------------------------------------------------------- targets


def noop():
    pass


def square(x):
    return x * x


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def queue_producer(q, ready, go, n):
    ready.release()
    go.wait()
    for i in range(n):
        q.put({"id": i, "name": "item"})


def queue_consumer(q, ready, go, done, total, n):
    ready.release()
    go.wait()
    s = 0
    for _ in range(n):
        s += q.get()["id"]
    total.value = s
    done.set()


def locked_increments(counter, lock, ready, go, done, n):
    """Doc 002's counter: `with lock: counter.value += 1`, n times."""
    ready.release()
    go.wait()
    for _ in range(n):
        with lock:
            counter.value += 1
    done.release()


def frame_from_queue(q, ack, echo):
    while True:
        frame = q.get()
        if frame is None:
            return
        echo.value = frame[0] if frame[0] == frame[-1] else -1
        ack.set()


def frame_from_shared_memory(name, ready, ack, echo, stop):
    shm = shared_memory.SharedMemory(name=name)
    buf = shm.buf
    try:
        while True:
            ready.wait()
            ready.clear()
            if stop.value == 1:
                return
            echo.value = buf[0] if buf[0] == buf[len(buf) - 1] else -1
            ack.set()
    finally:
        del buf
        shm.close()


def echo(conn):
    while True:
        value = conn.recv()
        if value is None:
            return
        conn.send(value)


# ------------------------------------------------------------ the parent


def pid_of(_):
    time.sleep(0.05)  # so that the tasks spread over every worker
    return os.getpid()


def resident_bytes(pid):
    """Pss of an OS process (pages shared with others count once in all), else RSS."""
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            with open(f"/proc/{pid}/{name}") as f:
                for line in f:
                    if line.startswith(key):
                        return int(line[len(key):].split()[0]) * 1024
        except OSError:
            pass
    raise RuntimeError(f"cannot read the memory of process {pid}")


def memory_per_worker(ctx, c):
    """As deno_workloads.ts: each OS child's Pss (the parent does not grow), per worker."""
    samples = []
    for run in range(c["repeat"] + 1):
        with ctx.Pool(c["cpus"]) as pool:
            pids = set(pool.map(pid_of, range(c["cpus"] * 4), 1))
            check(len(pids) == c["cpus"], "a task in every worker")
            size = sum(resident_bytes(pid) for pid in pids)
            pool.terminate()
        if run > 0:
            samples.append(size / c["cpus"] / 1e6)
    return {"samples": samples, "note": "each OS child's Pss (or RSS), divided by workers"}


def check(ok, what):
    if not ok:
        raise RuntimeError(f"wrong result: {what}")


def runs(repeat, once):
    """A warm-up run, then `repeat` timed runs; `once` returns milliseconds."""
    once()
    return [once() for _ in range(repeat)]


def start_join(ctx, c):
    def once():
        start = now()
        ps = [ctx.Process(target=noop) for _ in range(c["cpus"])]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        ms = (now() - start) * 1000
        check(all(p.exitcode == 0 for p in ps), "exit codes")
        return ms

    return {"samples": runs(c["repeat"], once)}


def pool_ready(ctx, c):
    def once():
        start = now()
        pool = ctx.Pool(c["cpus"])
        pool.apply(noop)
        ms = (now() - start) * 1000
        pool.terminate()
        pool.join()
        return ms

    return {"samples": runs(c["repeat"], once)}


def map_tiny(ctx, c, pool):
    n = c["mapItems"]
    items = list(range(n))

    def once():
        start = now()
        out = pool.map(square, items)
        ms = (now() - start) * 1000
        check(len(out) == n and out[-1] == (n - 1) ** 2, "map")
        return ms

    return {"samples": runs(c["repeat"], once), "note": "Pool.map, default chunksize"}


def apply_async(ctx, c, pool):
    def once():
        start = now()
        results = [pool.apply_async(noop) for _ in range(c["asyncTasks"])]
        for r in results:
            r.get()
        return (now() - start) * 1000

    return {"samples": runs(c["repeat"], once)}


def apply_sequential(ctx, c, pool):
    def once():
        start = now()
        for _ in range(c["applyTrips"]):
            pool.apply(noop)
        return (now() - start) * 1000

    return {"samples": runs(c["repeat"], once)}


def calibrate_fib(min_ms):
    fib(18)
    for n in range(15, 40):
        start = now()
        fib(n)
        if (now() - start) * 1000 >= min_ms:
            return n
    return 40


def cpu_efficiency(ctx, c, pool):
    n = calibrate_fib(c["fibMinMs"])
    tasks = [n] * (c["fibTasksPerCpu"] * c["cpus"])
    expected = fib(n)

    def once():
        start = now()
        for t in tasks:
            fib(t)
        sequential = now() - start
        start = now()
        out = pool.map(fib, tasks, 1)
        parallel = now() - start
        check(all(v == expected for v in out), "fib")
        return 100 * sequential / (parallel * c["cpus"])

    return {
        "samples": runs(c["repeat"], once),
        "note": f"{len(tasks)} × fib({n}); Pool.map, chunksize 1; sequential run in the main process",
    }


def queue_throughput(ctx, c):
    n = c["queueMessages"]

    def once():
        q = ctx.Queue()
        ready = ctx.Semaphore(0)
        go = ctx.Event()
        done = ctx.Event()
        total = ctx.Value("q", 0)
        producer = ctx.Process(target=queue_producer, args=(q, ready, go, n))
        consumer = ctx.Process(target=queue_consumer, args=(q, ready, go, done, total, n))
        producer.start()
        consumer.start()
        ready.acquire()
        ready.acquire()
        start = now()
        go.set()
        done.wait()
        ms = (now() - start) * 1000
        producer.join()
        consumer.join()
        check(total.value == n * (n - 1) // 2, "queue sum")
        return ms

    return {"samples": runs(c["repeat"], once), "note": "put/get in the two processes"}


def locked_counter(ctx, c):
    n = c["incrementsPerProcess"]

    def once():
        counter = ctx.Value("i", 0)
        lock = ctx.Lock()
        ready = ctx.Semaphore(0)
        go = ctx.Event()
        done = ctx.Semaphore(0)
        ps = [
            ctx.Process(target=locked_increments, args=(counter, lock, ready, go, done, n))
            for _ in range(c["cpus"])
        ]
        for p in ps:
            p.start()
        for _ in ps:
            ready.acquire()
        start = now()
        go.set()
        for _ in ps:
            done.acquire()
        ms = (now() - start) * 1000
        for p in ps:
            p.join()
        check(counter.value == c["cpus"] * n, "counter")
        return ms

    return {
        "samples": runs(c["repeat"], once),
        "note": "with lock: counter.value += 1 (Value 'i' with its own lock, as doc 002)",
    }


def frame_queue(ctx, c):
    frame = bytearray(c["frameBytes"])
    q = ctx.Queue()
    ack = ctx.Event()
    echo = ctx.Value("i", 0)
    consumer = ctx.Process(target=frame_from_queue, args=(q, ack, echo))
    consumer.start()
    stamp = [0]

    def once():
        stamp[0] = stamp[0] % 250 + 1
        frame[0] = frame[-1] = stamp[0]
        start = now()
        q.put(frame)
        ack.wait()
        ms = (now() - start) * 1000
        ack.clear()
        check(echo.value == stamp[0], "frame stamp")
        return ms

    try:
        samples = runs(c["repeat"], once)
    finally:
        q.put(None)
        consumer.join()
    return {"samples": samples, "note": "put(bytearray) → get() in a running process → Event"}


def frame_shared(ctx, c):
    shm = shared_memory.SharedMemory(create=True, size=c["frameBytes"])
    ready = ctx.Event()
    ack = ctx.Event()
    echo = ctx.Value("i", 0)
    stop = ctx.Value("i", 0)
    consumer = ctx.Process(
        target=frame_from_shared_memory, args=(shm.name, ready, ack, echo, stop)
    )
    consumer.start()
    buf = shm.buf
    last = c["frameBytes"] - 1
    stamp = [0]

    def once():
        stamp[0] = stamp[0] % 250 + 1
        buf[0] = buf[last] = stamp[0]
        start = now()
        ready.set()
        ack.wait()
        ms = (now() - start) * 1000
        ack.clear()
        check(echo.value == stamp[0], "frame stamp")
        return ms

    try:
        samples = runs(c["repeat"], once)
    finally:
        stop.value = 1
        ready.set()
        consumer.join()
        del buf
        shm.close()
        shm.unlink()
    return {
        "samples": samples,
        "note": "shared_memory.SharedMemory; Event set → the process checks the bytes → Event",
    }


def pipe_pingpong(ctx, c):
    here, there = ctx.Pipe()
    child = ctx.Process(target=echo, args=(there,))
    child.start()

    def once():
        start = now()
        for i in range(c["pipeTrips"]):
            here.send(i)
            check(here.recv() == i, "echo")
        return (now() - start) * 1000

    try:
        samples = runs(c["repeat"], once)
    finally:
        here.send(None)
        child.join()
    return {"samples": samples, "note": "send() + recv() both sides"}


def forkserver(run, c):
    """A workload on the 'forkserver' context, its server started first."""
    ctx = mp.get_context("forkserver")
    warm = ctx.Process(target=noop)
    warm.start()
    warm.join()
    outcome = run(ctx, c)
    outcome["note"] = "get_context('forkserver'), its server started before"
    return outcome


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("spawn", "fork"):
        print("usage: python_workloads.py spawn|fork '<config JSON>'", file=sys.stderr)
        sys.exit(2)
    method = sys.argv[1]
    c = json.loads(sys.argv[2])
    ctx = mp.get_context(method)
    results = {}
    errors = {}
    pool = None

    def warm_pool():
        nonlocal pool
        if pool is None:
            pool = ctx.Pool(c["cpus"])
            pool.map(square, [1, 2, 3, 4])
        return pool

    workloads = {
        "start_join": lambda: start_join(ctx, c),
        "pool_ready": lambda: pool_ready(ctx, c),
        "map_tiny": lambda: map_tiny(ctx, c, warm_pool()),
        "apply_async": lambda: apply_async(ctx, c, warm_pool()),
        "apply_sequential": lambda: apply_sequential(ctx, c, warm_pool()),
        "cpu_efficiency": lambda: cpu_efficiency(ctx, c, warm_pool()),
        "queue_throughput": lambda: queue_throughput(ctx, c),
        "locked_increments": lambda: locked_counter(ctx, c),
        "frame_queue": lambda: frame_queue(ctx, c),
        "frame_shared": lambda: frame_shared(ctx, c),
        "pipe_pingpong": lambda: pipe_pingpong(ctx, c),
        "start_join_forkserver": lambda: forkserver(start_join, c),
        "pool_ready_forkserver": lambda: forkserver(pool_ready, c),
        "memory_per_worker": lambda: memory_per_worker(ctx, c),
        # CPython's children are OS processes with every start method: the
        # "subprocess" rows compare with its own.
        "start_join_subprocess": lambda: start_join(ctx, c),
        "pool_ready_subprocess": lambda: pool_ready(ctx, c),
        "apply_sequential_subprocess": lambda: apply_sequential(ctx, c, warm_pool()),
        "map_tiny_subprocess": lambda: map_tiny(ctx, c, warm_pool()),
        "memory_per_worker_subprocess": lambda: memory_per_worker(ctx, c),
    }
    for wid in c["workloads"]:
        run = workloads.get(wid)
        if run is None:
            errors[wid] = "unknown workload"
            continue
        print(f"  python {method}: {wid}", file=sys.stderr)
        try:
            results[wid] = run()
        except Exception as error:  # reported per workload, the run goes on
            errors[wid] = f"{type(error).__name__}: {error}"
    if pool is not None:
        pool.terminate()
        pool.join()
    print(
        json.dumps(
            {
                "system": f"python-{method}",
                "runtime": f"CPython {platform.python_version()}, start method {method!r}",
                "results": results,
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main()
