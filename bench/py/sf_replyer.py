"""The replying service of bench/service-framework.ts, run unchanged by service_framework 0.0.3:
  python3 -m service_framework -s ./sf_replyer.py -a ADDRESSES.json -cl WARNING
It answers {"n": int} with the same n, both validated by the framework."""


def on_new_request(args, to_send, states, config):
    return {'n': args['n']}


connection_models = {
    'in': {
        'echo': {
            'connection_type': 'replyer',
            'required_creation_arguments': {'on_new_request': on_new_request},
            'required_arguments': {'n': int},
            'required_return_arguments': {'n': int},
        },
    },
}
