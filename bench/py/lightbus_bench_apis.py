"""The two APIs of bench/lightbus.ts, as Lightbus users declare them. They match
bench/_redis-echo.ts (echoApi) and bench/_lightbus-ours.ts (ordersApi) field for field, so
that a Lightbus peer and a Switchyard peer can also be paired with each other."""
from lightbus import Api, Event, Parameter


class EchoApi(Api):
    class Meta:
        name = 'bench.echo'

    def echo(self, text: str, n: int) -> dict:
        return {'text': text, 'n': n}


class OrdersApi(Api):
    placed = Event(parameters=[Parameter('order', int), Parameter('sku', str)])

    class Meta:
        name = 'bench.orders'
