"""What the Python peers share: the command line every client takes, the two workloads and the
one JSON line of results. A peer supplies only `get_json(url)`: one GET, its body parsed with
json.loads. See benchmarks/README.md."""

import argparse
import asyncio
import json
import resource
import ssl
import sys
import time
import urllib.parse


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--ca-file", default="")
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--workload", choices=("get", "pages"), default="get")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--pool", type=int, default=16)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--ids", default="")
    parser.add_argument("--consume-ms", type=int, default=0)
    parser.add_argument("--prefetch", type=int, choices=(0, 1), default=0)
    return parser.parse_args()


class CountingSSLContext(ssl.SSLContext):
    """Counts the TLS connections opened with it: asyncio and anyio both start each one with
    wrap_bio, and neither httpx nor aiohttp counts them itself."""

    handshakes = 0

    def wrap_bio(self, *args, **kwargs):
        CountingSSLContext.handshakes += 1
        return super().wrap_bio(*args, **kwargs)


def tls_context(ca_file):
    context = CountingSSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs()
    if ca_file:
        context.load_verify_locations(ca_file)
    return context


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Results:
    def __init__(self):
        self.requests = self.errors = self.models = self.pages = self.checksum = 0
        self.latencies_ms = []
        self.first_error = ""
        self.start()

    def start(self):
        self.started = time.perf_counter()
        self.cpu_started = cpu_seconds()

    def stop(self):
        self.wall_s = time.perf_counter() - self.started
        self.cpu_s = cpu_seconds() - self.cpu_started

    def add_error(self, error):
        if self.errors == 0:
            self.first_error = repr(error)
        self.errors += 1


async def get_models(args, get_json, results):
    with open(args.ids) as ids:
        urls = [f"{args.base_url}/models/{urllib.parse.quote(i.strip(), safe='')}" for i in ids]
    started = 0

    async def caller():
        nonlocal started
        while started < args.count:
            url = urls[started % len(urls)]
            started += 1
            start = time.perf_counter()
            try:
                body = await get_json(url)
                results.checksum += len(body["model"]["id"])
                results.requests += 1
            except Exception as error:
                results.add_error(error)
            results.latencies_ms.append((time.perf_counter() - start) * 1000)

    results.start()
    await asyncio.gather(*(caller() for _ in range(args.concurrency)))


async def stream_pages(args, get_json, results):
    """Pages one after the other; with --consume-ms the consumer then waits that long on each,
    and with --prefetch the next page is asked for before it starts."""

    def page_url(token):
        query = {"pageSize": args.page_size}
        if token:
            query["paginationToken"] = token
        return f"{args.base_url}/models/public?{urllib.parse.urlencode(query)}"

    results.start()
    start = time.perf_counter()
    page = await get_json(page_url(None))
    while True:
        results.latencies_ms.append((time.perf_counter() - start) * 1000)
        results.pages += 1
        results.requests += 1
        for model in page["models"][: args.count - results.models]:
            results.models += 1
            results.checksum += len(model["id"])

        token = page.get("nextPaginationToken")
        more = bool(token) and results.models < args.count
        next_page = None
        if more and args.prefetch:
            next_page = asyncio.ensure_future(get_json(page_url(token)))
        if args.consume_ms:
            await asyncio.sleep(args.consume_ms / 1000)
        if not more:
            return
        start = time.perf_counter()
        page = await (next_page or get_json(page_url(token)))


async def run(client_name, args, get_json):
    """Runs the workload of `args` with `get_json` and prints the results line."""
    results = Results()
    if args.workload == "get":
        await get_models(args, get_json, results)
    else:
        await stream_pages(args, get_json, results)
    results.stop()

    latencies = sorted(results.latencies_ms)

    def percentile(p):
        return latencies[min(int(p / 100 * len(latencies)), len(latencies) - 1)] if latencies else 0

    line = {
        "client": client_name,
        "workload": args.workload,
        "concurrency": args.concurrency,
        "pool": args.pool,
        "consume_ms": args.consume_ms,
        "prefetch": bool(args.prefetch),
        "requests": results.requests,
        "errors": results.errors,
        "models": results.models,
        "pages": results.pages,
        "handshakes": CountingSSLContext.handshakes,
        "checksum": results.checksum,
        "wall_s": results.wall_s,
        "cpu_s": results.cpu_s,
        "p50_ms": percentile(50),
        "p99_ms": percentile(99),
    }
    print(json.dumps(line), flush=True)
    if results.errors:
        print(f"{client_name}: {results.errors} errors; the first: {results.first_error}",
              file=sys.stderr)
    return 0 if results.errors == 0 else 2
