"""The publishing service of bench/service-framework.ts, in main mode:
  python3 -m service_framework -s ./sf_publisher.py -a ADDRESSES.json -m -cl WARNING
Prints "ready". Commands on stdin:
  "probe"    sends {"seq": -1} every 20 ms until a "stop" line (ZeroMQ's slow joiner), then "ok"
  "got K"    the subscriber has received K counted messages (relayed by the benchmark)
  "pub N"    sends N messages {"seq": 0…}, never more than WINDOW ahead of the last "got", then "ok"
"""
import select
import sys

from sf_common import WINDOW, commands, say


def main(to_send, config):
    say('ready')
    sent = 0
    received = 0
    lines = commands()
    for words in lines:
        if words[0] == 'probe':
            while not select.select([sys.stdin], [], [], 0.02)[0]:
                to_send('connection', 'feed', {'seq': -1})
            next(lines)  # "stop"
            say('ok')
        elif words[0] == 'got':
            received = int(words[1])
        elif words[0] == 'pub':
            for _ in range(int(words[1])):
                while sent - received >= WINDOW:
                    received = max(received, int(next(lines)[1]))
                to_send('connection', 'feed', {'seq': sent})
                sent += 1
            say('ok')


connection_models = {
    'out': {
        'feed': {
            'connection_type': 'publisher',
            'optional_creation_arguments': {'topic': 'bench'},
            'required_arguments': {'seq': int},
        },
    },
}
