// Listens to user_registered (listener name "send_welcome": run several copies and they
// share the events) and, every second, registers a new user through the RPC.
import { apiService } from 'switchyardjs/api';
import { auth } from './api.js';

let n = 0;

export default apiService({ auth }, (bus) => {
  bus.auth.user_registered.listen(
    ({ id, username, email }) => {
      bus.logger.info({ id, username, email }, `welcome e-mail to ${email}`);
    },
    { listenerName: 'send_welcome' },
  );
  bus.every({ seconds: 1 }, async () => {
    n++;
    const { id } = await bus.auth.register({ username: `user${n}`, email: `user${n}@example.com` });
    const ok = await bus.auth.check_password({ username: `user${n}`, password: 'secret' });
    bus.logger.info({ id, ok }, `registered user${n}`);
  });
});
