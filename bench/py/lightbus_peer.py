"""The calling and firing side of bench/lightbus.ts: a plain Python process using Lightbus's
client (lightbus.create), as an application would. Driven by lines on stdin:
  python3 lightbus_peer.py client CONFIG_FILE
    "warm MS C" | "run MS C" -> one JSON line {"calls", "seconds", "p50", "p99"} (ms; C calls in flight)
  python3 lightbus_peer.py firer CONFIG_FILE
    "fire N C" -> fires N events, C in flight; one JSON line {"fired", "seconds"}
  "done" (or end of stdin) -> exits. Prints "ready" first."""
import asyncio
import json
import sys
import time

import lightbus
from lightbus_bench_apis import OrdersApi


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


async def main(role, config_file):
    bus = lightbus.create(config_file=config_file)
    if role == 'firer':
        bus.client.register_api(OrdersApi())  # Lightbus fires only events of APIs it has
    loop = asyncio.get_running_loop()
    say('ready')
    sequence = 0
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        words = line.split()
        if not words or words[0] == 'done':
            break
        deadline = time.perf_counter() + int(words[1]) / 1000  # warm, run: MS
        to_fire = int(words[1])  # fire: N
        concurrency = int(words[2])
        latencies = []
        fired = 0

        async def call():
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                result = await bus.bench.echo.echo.call_async(text='hello world', n=42)
                if result['n'] != 42:
                    raise ValueError('wrong result %r' % (result,))
                latencies.append((time.perf_counter() - started) * 1000)

        async def fire():
            nonlocal fired, sequence, to_fire
            while to_fire > 0:
                to_fire -= 1
                sequence += 1
                await bus.bench.orders.placed.fire_async(order=sequence, sku='sku-1')
                fired += 1

        started = time.perf_counter()
        await asyncio.gather(*((fire if role == 'firer' else call)() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        if role == 'firer':
            say(json.dumps({'fired': fired, 'seconds': seconds}))
        else:
            latencies.sort()
            at = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]
            say(json.dumps({'calls': len(latencies), 'seconds': seconds, 'p50': at(0.5), 'p99': at(0.99)}))
    await bus.client.close_async()


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2]))
