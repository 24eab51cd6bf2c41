import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { outboundAllowList } from '../../src/runtime/outbound-allow-list.js';

const refused = (err: Error & { code?: string }) => err.code === 'SY_ERR_OUTBOUND_REFUSED';

describe('outbound allow-list', () => {
  it('is off (undefined) when unset or empty', () => {
    assert.equal(outboundAllowList(undefined, 'x'), undefined);
    assert.equal(outboundAllowList([], 'x'), undefined);
  });

  it('matches host names exactly, by suffix, and by port', async () => {
    const list = outboundAllowList(['api.example.com', '*.corp.example', 'hooks.example.net:8443'], 'callbackAllow')!;
    await list.check('https://API.example.com/cb', 'callback_url');
    await list.check('http://a.b.corp.example:9000/x', 'callback_url');
    await list.check('https://hooks.example.net:8443/p', 'callback_url');
    await assert.rejects(list.check('https://corp.example/x', 'callback_url'), refused);
    await assert.rejects(list.check('https://hooks.example.net/p', 'callback_url'), refused);
    await assert.rejects(list.check('https://evil.example.com.attacker.net/', 'callback_url'), refused);
  });

  it('matches addresses and networks, IPv4 and IPv6, and host names by what they resolve to', async () => {
    const list = outboundAllowList(['10.0.0.0/8', '::1', '127.0.0.0/8'], 'allow')!;
    await list.check('http://10.1.2.3:80/', 's3_host');
    await list.check('http://[::1]:9000/', 's3_host');
    await list.check('localhost:9000', 's3_host'); // a bare host:port, resolves to loopback
    await assert.rejects(list.check('http://192.168.1.1/', 's3_host'), refused);
    await assert.rejects(list.check('http://[::2]/', 's3_host'), refused);
  });

  it('confines unix sockets to folders, after resolving the path', async () => {
    const list = outboundAllowList(['unix:/run/acomm'], 'hookAllow')!;
    await list.check('unix:///run/acomm/a/hook.sock', 'responsehook');
    await assert.rejects(list.check('unix:///run/acomm/../secret.sock', 'responsehook'), refused);
    await assert.rejects(list.check('unix:///run/acommx/hook.sock', 'responsehook'), refused);
    await assert.rejects(list.check('http://127.0.0.1/', 'responsehook'), refused);
  });

  it('names the setting and hides credentials in the refusal', async () => {
    const list = outboundAllowList(['good.example'], 'task.outboundAllow')!;
    await assert.rejects(list.check('https://user:s3cret@bad.example/cb', 'callback_url'), (err: Error) => {
      assert.match(err.message, /SY_ERR_OUTBOUND_REFUSED: callback_url .*bad\.example.* task\.outboundAllow/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  it('refuses an entry it cannot read, naming it and the setting', () => {
    for (const bad of ['10.0.0.0/33', 'unix:relative/dir', 'not a host', 'a..b']) {
      assert.throws(() => outboundAllowList([bad], 'allowSetting'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SY_ERR_SETTINGS');
        assert.match(err.message, /allowSetting/);
        return true;
      });
    }
  });
});
