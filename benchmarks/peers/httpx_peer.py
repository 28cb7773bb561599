#!/usr/bin/env python3
"""httpx_peer: the benchmark requests through httpx.AsyncClient (the transport of Scenario's
official Python SDK), at most --pool keep-alive connections, each body parsed with json.loads.
Takes the command line of every peer (see peer_common.py) and prints one JSON line."""

import asyncio
import json
import sys

import httpx

import peer_common


async def main():
    args = peer_common.parse_args(__doc__)
    limits = httpx.Limits(max_connections=args.pool, max_keepalive_connections=args.pool)
    # No pool timeout: at concurrency 1,024, callers queue for a connection longer than the
    # default 5 seconds.
    timeout = httpx.Timeout(60.0, pool=None)
    async with httpx.AsyncClient(
        auth=(args.key, args.secret),
        headers={"Accept": "application/json"},
        verify=peer_common.tls_context(args.ca_file),
        limits=limits,
        timeout=timeout,
    ) as client:

        async def get_json(url):
            response = await client.get(url)
            response.raise_for_status()
            return json.loads(response.content)

        return await peer_common.run("httpx", args, get_json)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
