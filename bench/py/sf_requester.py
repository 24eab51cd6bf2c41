"""The requesting service of bench/service-framework.ts, in main mode:
  python3 -m service_framework -s ./sf_requester.py -a ADDRESSES.json -m -cl WARNING
Prints "ready"; each "warm MS" | "run MS" line makes round trips for MS ms, one at a time
(a REQ socket), and prints {"calls", "seconds", "p50", "p99"} (ms)."""
import json
import time

from sf_common import commands, say


def main(to_send, config):
    say('ready')
    n = 0
    for words in commands():
        deadline = time.perf_counter() + int(words[1]) / 1000
        latencies = []
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            if to_send('connection', 'echo', {'n': n})['n'] != n:
                raise ValueError('wrong reply')
            latencies.append((time.perf_counter() - t) * 1000)
            n += 1
        seconds = time.perf_counter() - started
        latencies.sort()
        at = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]
        say(json.dumps({'calls': len(latencies), 'seconds': seconds, 'p50': at(0.5), 'p99': at(0.99)}))


connection_models = {
    'out': {
        'echo': {
            'connection_type': 'requester',
            'required_arguments': {'n': int},
            'required_return_arguments': {'n': int},
        },
    },
}
