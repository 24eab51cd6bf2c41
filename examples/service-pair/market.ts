// The market, a leading-edge service (main mode): publishes its order book as delta updates
// (a delta_update_out state) and asks the pricer for a quote after each change.
//   switchyard service -s market.ts -a market.addresses.json -c market.config.json -m
import { service, requester, t, Decimal, type Args } from 'switchyardjs/service';

const changes: Array<Record<string, Decimal | null>> = [
  { 'bid:99.5': new Decimal('3'), 'ask:100.5': new Decimal('2') },
  { 'bid:100': new Decimal('1') },
  { 'ask:100.25': new Decimal('4') },
  { 'bid:100': null },              // a null value removes the level
  { 'ask:100.25': null, 'ask:101': new Decimal('5') },
];

export default service({
  name: 'market',
  config: { required: { symbol: t.str }, optional: { pause_ms: t.str } },
  states: {
    out: { book: { stateType: 'delta_update_out', requiredArguments: { state: t.mapOf(t.str, t.nullable(t.Decimal)) } } },
  },
  connections: {
    out: {
      quote: requester({
        requiredArguments: { symbol: t.str },
        requiredReturnArguments: { symbol: t.str, levels: t.str },
        optionalReturnArguments: { mid: t.Decimal, bid: t.Decimal, ask: t.Decimal },
        timeoutMs: 5000,
      }),
    },
  },
  main: async (toSend, config) => {
    const pause = Number(config.pause_ms ?? 200);
    const book: Record<string, unknown> = {};
    for (const [i, delta] of changes.entries()) {
      // current_num is numbered by the state (0, 1, ...) when left out.
      await toSend('state', 'book', { state: delta });
      for (const [k, v] of Object.entries(delta)) if (v === null) delete book[k]; else book[k] = v;
      // The pricer hears the update on its own socket: ask until its book has caught up
      // (the first update also waits for its subscription to connect: up to 5 s).
      let quote: Args = {};
      for (const until = Date.now() + 5000; ; ) {
        quote = await toSend('connection', 'quote', { symbol: config.symbol as string });
        if (quote.levels === Object.keys(book).sort().join(',') || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, pause / 10));
      }
      console.log(`update ${i}: ${Object.keys(book).length} levels, quote ${String(quote.bid ?? '-')} / ${String(quote.ask ?? '-')} mid ${String(quote.mid ?? '-')}`);
    }
  },
});
