// The API both services share: declared once, types inferred everywhere.
import { defineApi, z } from 'switchyardjs/api';

export const auth = defineApi({
  name: 'my_company.auth',
  rpcs: {
    register: { params: z.object({ username: z.string().min(1), email: z.string().email() }), result: z.object({ id: z.number().int() }) },
    check_password: { params: z.object({ username: z.string(), password: z.string() }), result: z.boolean() },
  },
  events: {
    user_registered: { params: z.object({ id: z.number().int(), username: z.string(), email: z.string() }) },
  },
});
