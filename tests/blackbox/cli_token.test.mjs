// herald-cli against a node with authentication on: --token (or HERALD_TOKEN) enters as
// the token's sub without --user; a bad token is a refusal (exit 4), not a retry loop.

import assert from 'node:assert/strict';
import { killAllClis, startCli } from './lib/cli.mjs';
import { after, describe, test, uniq, useHerald } from './lib/herald.mjs';
import { claimsFor, signJwt } from './lib/jwt.mjs';

const SECRET = 'cli-secret-0123456789abcdef0123456789';

describe('herald-cli --token', () => {
  const herald = useHerald(['--jwt-hs256-secret', SECRET]);
  after(() => killAllClis());

  for (const [how, options] of [
    ['--token', (token) => ({ extra: ['--token', token] })],
    ['HERALD_TOKEN', (token) => ({ env: { HERALD_TOKEN: token } })],
  ])
    test(`${how}: enters as the token's sub and speaks`, async () => {
      const sub = uniq('cli');
      const group = uniq('g');
      const cli = startCli(herald.url, null, { join: [group], ...options(signJwt(claimsFor(sub), { key: SECRET })) });
      const session = await cli.untilLine((l) => l.type === 'session', 'the session line');
      assert.equal(session.user, sub);
      cli.send(`say ${group} hello`);
      const message = await cli.untilLine((l) => l.type === 'message' && l.group === group, 'its message');
      assert.equal(message.from, sub);
      cli.send('quit');
      assert.equal((await cli.exit()).code, 0);
    });

  test('a bad token: the CLI stops with exit 4 (refused), saying unauthorized', async () => {
    const cli = startCli(herald.url, null, { extra: ['--token', signJwt(claimsFor('x'), { key: 'wrong' })] });
    const { code } = await cli.exit();
    assert.equal(code, 4, cli.describe());
    assert.match(cli.stderr.join('\n'), /unauthorized/);
  });
});
