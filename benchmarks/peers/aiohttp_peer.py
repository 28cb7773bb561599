#!/usr/bin/env python3
"""aiohttp_peer: the benchmark requests through an aiohttp.ClientSession, at most --pool
keep-alive connections, each body parsed with json.loads. Takes the command line of every peer
(see peer_common.py) and prints one JSON line."""

import asyncio
import json
import sys

import aiohttp

import peer_common


async def main():
    args = peer_common.parse_args(__doc__)
    connector = aiohttp.TCPConnector(limit=args.pool, ssl=peer_common.tls_context(args.ca_file))
    async with aiohttp.ClientSession(
        connector=connector,
        auth=aiohttp.BasicAuth(args.key, args.secret),
        headers={"Accept": "application/json"},
        timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
    ) as session:

        async def get_json(url):
            async with session.get(url) as response:
                response.raise_for_status()
                return json.loads(await response.read())

        return await peer_common.run("aiohttp", args, get_json)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
