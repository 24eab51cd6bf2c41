// Serves the auth API: registers users and fires user_registered for each.
import { apiService } from 'switchyardjs/api';
import { auth } from './api.js';

const users = new Map<string, number>();

export default apiService({ auth }, (bus) => {
  bus.serve(auth, {
    register: async ({ username, email }) => {
      const id = users.get(username) ?? users.size + 1;
      users.set(username, id);
      await bus.auth.user_registered.fire({ id, username, email });
      return { id };
    },
    check_password: ({ username, password }) => users.has(username) && password === 'secret',
  });
});
