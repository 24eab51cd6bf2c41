"""The subscribing service of bench/service-framework.ts:
  python3 -m service_framework -s ./sf_subscriber.py -a ADDRESSES.json -cl WARNING
Prints "probe" at the first probe message ({"seq": -1}), then "got K" after every 100
counted messages (K counted so far)."""
from sf_common import say

counted = 0
probed = False


def on_new_message(args, to_send, states, config):
    global counted, probed
    if args['seq'] < 0:
        if not probed:
            probed = True
            say('probe')
        return
    counted += 1
    if counted % 100 == 0:
        say('got %d' % counted)


connection_models = {
    'in': {
        'feed': {
            'connection_type': 'subscriber',
            'required_creation_arguments': {'on_new_message': on_new_message},
            'optional_creation_arguments': {'topic': 'bench'},
            'required_arguments': {'seq': int},
        },
    },
}
