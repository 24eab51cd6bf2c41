// The pricer: keeps an order book from the market's delta updates (a delta_update_in state:
// gaps are repaired from the market's snapshot) and answers quote requests from it.
//   switchyard service -s pricer.ts -a pricer.addresses.json
import { service, replyer, t, Decimal } from 'switchyardjs/service';

/** Book keys are "bid:PRICE" or "ask:PRICE", values the size (a null delta removed a level). */
function best(book: Record<string, unknown>, side: 'bid' | 'ask'): number | undefined {
  const prices = Object.keys(book).filter((k) => k.startsWith(`${side}:`)).map((k) => Number(k.slice(4)));
  if (prices.length === 0) return undefined;
  return side === 'bid' ? Math.max(...prices) : Math.min(...prices);
}

export default service({
  name: 'pricer',
  config: { optional: { spread_bps: t.str } },
  states: {
    in: { book: { stateType: 'delta_update_in', requiredArguments: { state: t.mapOf(t.str, t.nullable(t.Decimal)) } } },
  },
  connections: {
    in: {
      quote: replyer(
        {
          requiredArguments: { symbol: t.str },
          requiredReturnArguments: { symbol: t.str, levels: t.str },
          optionalReturnArguments: { mid: t.Decimal, bid: t.Decimal, ask: t.Decimal },
        },
        (args, _toSend, states) => {
          const book = (states.book ?? {}) as Record<string, unknown>;
          const bid = best(book, 'bid');
          const ask = best(book, 'ask');
          // The levels the quote was made from, so the caller can tell it is up to date.
          const levels = Object.keys(book).sort().join(',');
          if (bid === undefined || ask === undefined) return { symbol: args.symbol, levels };
          return {
            symbol: args.symbol,
            levels,
            bid: new Decimal(String(bid)),
            ask: new Decimal(String(ask)),
            mid: new Decimal(((bid + ask) / 2).toFixed(4)),
          };
        },
      ),
    },
  },
});
