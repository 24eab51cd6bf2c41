// Type-level tests (issue 15), compiled by `npm run typecheck` (tsc --noEmit -p ., which
// includes test/) and never run: each `@ts-expect-error` line must fail to compile, so if a
// type loosens again the directive is unused and the typecheck fails.

import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { publisher, replyer, requester, service, t, type ToSendOf } from '../../src/models/service/mod.js';
import { z } from '../../src/schema/mod.js';

// RedisBusTransport({ url }) type-checks: the logger is optional (it runs without one).
export const bus = () => new RedisBusTransport({ url: 'redis://127.0.0.1:6379/0' });

// toSend in main and sigintHandler is typed from the declared outbound connections and states.
export const typed = service({
  connections: {
    out: {
      quote: requester({ requiredArguments: { symbol: t.str }, requiredReturnArguments: { price: t.float } }),
      news: publisher({ arguments: z.object({ headline: z.string() }) }),
    },
  },
  states: { out: {
    book: { stateType: 'delta_update_out', requiredArguments: { state: t.dict } },
    // t.nullable(T) is T or null, not a set (the two specs have the same fields).
    levels: { stateType: 'delta_update_out', requiredArguments: { state: t.mapOf(t.str, t.nullable(t.float)) } },
  } },
  main: async (toSend) => {
    const reply = await toSend('connection', 'quote', { symbol: 'ACME' });
    const price: number = reply.price;
    await toSend('connection', 'news', { headline: `ACME at ${price}` });
    await toSend('state', 'book', { state: {}, is_snapshot: true });
    await toSend('state', 'levels', { state: { 'bid:1': 2.5, 'ask:3': null } });
    // @ts-expect-error a level's size is a float or null
    await toSend('state', 'levels', { state: { 'bid:1': 'big' } });
    // @ts-expect-error a misspelled connection
    await toSend('connection', 'qoute', { symbol: 'ACME' });
    // @ts-expect-error a wrong argument type (symbol is a str)
    await toSend('connection', 'quote', { symbol: 42 });
    // @ts-expect-error a required argument left out
    await toSend('connection', 'quote', {});
    // @ts-expect-error a zod-declared argument of the wrong type
    await toSend('connection', 'news', { headline: 1 });
    // @ts-expect-error a state sent as a connection
    await toSend('connection', 'book', { state: {} });
    // @ts-expect-error a misspelled state
    await toSend('state', 'bok', { state: {} });
  },
  sigintHandler: async (_signal, toSend) => {
    // @ts-expect-error a misspelled connection in the SIGINT handler
    await toSend('connection', 'newz', { headline: 'closing' });
  },
});

// A handler declared apart is typed by annotating its toSend with ToSendOf<typeof out>.
const out = { quote: requester({ requiredArguments: { symbol: t.str } }) };
export const handled = service({
  connections: {
    out,
    in: {
      ask: replyer({ requiredArguments: { symbol: t.str } }, async (args, toSend: ToSendOf<typeof out>) => {
        // @ts-expect-error a misspelled connection in an annotated handler
        await toSend('connection', 'quotes', { symbol: args.symbol });
        return toSend('connection', 'quote', { symbol: args.symbol });
      }),
    },
  },
});

// An annotated handler whose connection the service does not declare fails where the service is made.
export const undeclared = service({
  connections: {
    out: { other: requester() },
    // @ts-expect-error the handler sends on "quote", which this service does not declare
    in: { ask: replyer({}, async (_args, toSend: ToSendOf<typeof out>) => toSend('connection', 'quote', { symbol: 'A' })) },
  },
});
