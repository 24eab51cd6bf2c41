"""The bus module that `lightbus run --bus lightbus_bench_bus` loads for bench/lightbus.ts.
BENCH_ROLE=server serves bench.echo (and prints "ready"); BENCH_ROLE=listener listens to bench.orders.placed
under the listener name "count" and answers the benchmark on stdin/stdout:
  "count"        -> "count H"   (events handled so far)
  "expect TOTAL" -> "done H"    (printed once H >= TOTAL)
The worker itself is the real `lightbus run`, with Lightbus's defaults (batch_size 10)."""
import os
import sys
import threading

import lightbus
from lightbus_bench_apis import EchoApi

bus = lightbus.create()
ROLE = os.environ.get('BENCH_ROLE')


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


if ROLE == 'server':
    bus.client.register_api(EchoApi())

    @bus.client.on_start()
    def started(**_):
        say('ready')

elif ROLE == 'listener':
    lock = threading.Lock()
    state = {'handled': 0, 'target': None}

    def handle(event_message, order, sku):
        with lock:
            state['handled'] += 1
            if state['target'] is not None and state['handled'] >= state['target']:
                state['target'] = None
                say('done %d' % state['handled'])

    def commands():
        for line in sys.stdin:
            words = line.split()
            with lock:
                if words[:1] == ['count']:
                    say('count %d' % state['handled'])
                elif words[:1] == ['expect']:
                    if state['handled'] >= int(words[1]):
                        say('done %d' % state['handled'])
                    else:
                        state['target'] = int(words[1])
        os._exit(0)  # the benchmark closed our stdin: it is done with us

    @bus.client.on_start()
    def start_listening(**_):
        bus.bench.orders.placed.listen(handle, listener_name='count')
        threading.Thread(target=commands, daemon=True).start()
        say('ready')

else:
    raise SystemExit('BENCH_ROLE must be server or listener')
