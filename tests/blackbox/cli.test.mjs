// herald-cli (tools/cli) driven as a user would: two CLIs chat in one room
// over each transport, a cut network is survived with every event exactly once
// and in order, a lost node is replaced by a fresh session that says
// `recovered:false`, and the exit codes tell unreachable from refused from
// bad usage. Output format and exit codes: docs/native-client.md.

import assert from 'node:assert/strict';
import { after, describe, publishJson, startHerald, test, uniq, withHerald } from './lib/herald.mjs';
import { Cli, assertEidOrder, killAllClis, startCli, startProxy, unusedPort } from './lib/cli.mjs';

const TRANSPORTS = ['websocket', 'longpoll', 'sse'];

after(killAllClis);

const isMessage = (group, text) => (l) => l.type === 'message' && l.group === group && l.data?.text === text;
const isJoin = (group, user) => (l) => l.type === 'join' && l.group === group && l.user === user;
const isLeave = (group, user) => (l) => l.type === 'leave' && l.group === group && l.user === user;

/** Starts a CLI and waits until it has entered and sees its own join of `room`. */
async function joined(url, user, room, opts = {}) {
  const cli = startCli(url, user, { join: [room], ...opts });
  await cli.untilLine((l) => l.type === 'session' && l.user === user, `${user}'s session line`);
  await cli.untilLine(isJoin(room, user), `${user}'s own join of ${room}`);
  return cli;
}

describe('herald-cli: two clients in one room', () => {
  for (const [i, transport] of TRANSPORTS.entries()) {
    // Bob uses the next transport, so that every pair of transports meets once.
    const other = TRANSPORTS[(i + 1) % TRANSPORTS.length];
    test(`alice over ${transport} and bob over ${other} chat both ways`, () =>
      withHerald([], async (server) => {
        const room = uniq('room');
        const side = uniq('side');
        const alice = await joined(server.url, 'alice', room, { transport });
        const bob = await joined(server.url, 'bob', room, { transport: other });
        try {
          await alice.untilLine(isJoin(room, 'bob'), 'alice sees bob join');

          alice.send(`say ${room} hello from alice`);
          for (const cli of [alice, bob]) await cli.untilLine(isMessage(room, 'hello from alice'), 'alice\'s message');
          const said = await alice.reply(`say ${room} hello from alice`);
          assert.equal(said.method, 'speak');
          assert.equal(typeof said.result.groups[room].seq, 'number', JSON.stringify(said));

          bob.send(`say ${room}   hi alice, two  spaces`);
          for (const cli of [alice, bob]) await cli.untilLine(isMessage(room, 'hi alice, two  spaces'), 'bob\'s message');
          const fromBob = alice.lines.find(isMessage(room, 'hi alice, two  spaces'));
          assert.equal(fromBob.from, 'bob');

          bob.send('send alice psst');
          const direct = await alice.untilLine((l) => l.type === 'direct' && l.from === 'bob', 'bob\'s direct message');
          assert.deepEqual(direct.data, { text: 'psst' });
          assert.deepEqual((await bob.reply('send alice psst')).result, { delivered: 1 });

          alice.send(`who ${room}`);
          const who = await alice.reply(`who ${room}`);
          assert.equal(who.method, 'presence');
          assert.deepEqual(who.result, { users: ['alice', 'bob'], count: 2 });

          alice.send(`join ${side}`);
          assert.equal((await alice.reply(`join ${side}`)).result.group, side);
          bob.send(`join ${side}`);
          await alice.untilLine(isJoin(side, 'bob'), 'alice sees bob join the side room');
          bob.send(`leave ${side}`);
          assert.deepEqual((await bob.reply(`leave ${side}`)).result, { ok: true });
          const left = await alice.untilLine(isLeave(side, 'bob'), 'alice sees bob leave the side room');
          assert.equal(left.reason, 'leave');

          bob.send('join bad!name');
          const refused = await bob.reply('join bad!name');
          assert.equal(refused.error?.code, 'bad_request', JSON.stringify(refused));

          alice.send('quit');
          assert.deepEqual(await alice.exit(), { code: 0, signal: null });
          const gone = await bob.untilLine(isLeave(room, 'alice'), 'bob sees alice leave on quit');
          assert.equal(gone.reason, 'exit');

          bob.endInput();
          assert.deepEqual(await bob.exit(), { code: 0, signal: null });

          for (const cli of [alice, bob]) {
            assertEidOrder(cli);
            assert.ok(!cli.lines.some((l) => l.type === 'heartbeat'), 'heartbeats are not printed by default');
          }
        } finally {
          alice.kill();
          bob.kill();
        }
      }));
  }

  test('commands typed before the connection is up are sent in order once it is', () =>
    withHerald([], async (server) => {
      const room = uniq('room');
      const cli = startCli(server.url, 'carol', { join: [room] });
      try {
        // Typed at once: the CLI has not even connected yet.
        for (let n = 1; n <= 5; n++) cli.send(`say ${room} line ${n}`);
        cli.endInput();
        const messages = await cli.untilLines((l) => l.type === 'message' && l.group === room, 5, 'five messages');
        assert.deepEqual(messages.map((m) => m.data.text), ['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
        assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
        assert.deepEqual(await cli.exit(), { code: 0, signal: null });
        assertEidOrder(cli);
      } finally {
        cli.kill();
      }
    }));

  for (const transport of TRANSPORTS) {
    // The end of input must not win against the echo of the last `say`: the
    // reply comes first and the event after it, so a client that sent `exit`
    // right after the reply lost its own last message about one run in six.
    // Many short runs make that race show up in one test run.
    test(`over ${transport}, the end of input right after a say still prints its message`, () =>
      withHerald([], async (server) => {
        const room = uniq('room');
        for (let run = 1; run <= 20; run++) {
          const cli = startCli(server.url, `echo${run}`, { join: [room], transport });
          try {
            cli.send(`say ${room} run ${run}`);
            cli.endInput();
            assert.deepEqual(await cli.exit(), { code: 0, signal: null }, cli.describe());
            assert.ok(cli.lines.some(isMessage(room, `run ${run}`)), `run ${run}: no message line\n${cli.describe()}`);
            assert.ok(cli.lines.some((l) => l.type === 'reply' && l.command === `say ${room} run ${run}`), cli.describe());
            assertEidOrder(cli);
          } finally {
            cli.kill();
          }
        }
      }));
  }

  test('text that is not UTF-8 goes out with U+FFFD instead of failing', () =>
    withHerald([], async (server) => {
      const room = uniq('room');
      const cli = await joined(server.url, 'ivan', room);
      try {
        cli.sendBytes(Buffer.concat([Buffer.from(`say ${room} caf`), Buffer.from([0xe9]), Buffer.from('\n')]));
        const said = await cli.untilLine((l) => l.type === 'message' && l.group === room, 'the message');
        assert.equal(said.data.text, 'caf\ufffd');
        cli.endInput();
        assert.deepEqual(await cli.exit(), { code: 0, signal: null });
      } finally {
        cli.kill();
      }
    }));

  test('heartbeats are printed only with --heartbeats', () =>
    withHerald(['--heartbeat', '1'], async (server) => {
      const room = uniq('room');
      const loud = await joined(server.url, 'gina', room, { extra: ['--heartbeats'] });
      const quiet = await joined(server.url, 'hank', room);
      try {
        // Both sockets were open while two heartbeats went to the first one.
        await loud.untilLines((l) => l.type === 'heartbeat', 2, 'two heartbeat lines');
        quiet.send(`who ${room}`);
        await quiet.reply(`who ${room}`);
        assert.equal(quiet.lines.filter((l) => l.type === 'heartbeat').length, 0, quiet.describe());
        for (const cli of [loud, quiet]) {
          cli.endInput();
          assert.deepEqual(await cli.exit(), { code: 0, signal: null });
        }
      } finally {
        loud.kill();
        quiet.kill();
      }
    }));
});

describe('herald-cli: reconnecting', () => {
  for (const transport of TRANSPORTS) {
    test(`over ${transport}, a cut network loses and repeats nothing`, () =>
      withHerald([], async (server) => {
        const proxy = await startProxy(server.port);
        const room = uniq('room');
        const cli = await joined(proxy.url, 'dave', room, { transport });
        try {
          await publishJson(server, { group: room, data: { text: 'before 1' } });
          await cli.untilLine(isMessage(room, 'before 1'), 'the message before the cut');
          // Long-poll: cut while a listen waits, or the cut would hit no request at all.
          if (transport === 'longpoll') await proxy.untilAwaitingAnswer();

          // Cut every connection and keep the CLI out while messages are published.
          proxy.hold();
          proxy.cut();
          for (let n = 1; n <= 5; n++) {
            const r = await publishJson(server, { group: room, data: { text: `during ${n}` } });
            assert.equal(r.status, 200, r.text);
          }
          await proxy.untilHeld(1);
          // A command typed while disconnected waits and goes out after the reconnect.
          cli.send(`say ${room} typed while away`);
          proxy.release();

          await cli.untilLine(isMessage(room, 'typed while away'), 'the command typed while disconnected');
          await publishJson(server, { group: room, data: { text: 'after 1' } });
          await cli.untilLine(isMessage(room, 'after 1'), 'the message after the reconnect');

          const texts = cli.lines.filter((l) => l.type === 'message').map((l) => l.data.text);
          assert.deepEqual(texts, ['before 1', 'during 1', 'during 2', 'during 3', 'during 4', 'during 5', 'typed while away', 'after 1']);
          const seqs = cli.lines.filter((l) => l.type === 'message').map((l) => l.seq);
          assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
          assert.equal(cli.lines.filter((l) => l.type === 'session').length, 1, 'the same session throughout');
          assertEidOrder(cli);
          assert.ok(cli.stderr.some((l) => /reconnecting in \d+ ms/.test(l)), `no reconnect reported\n${cli.describe()}`);

          cli.send('quit');
          assert.deepEqual(await cli.exit(), { code: 0, signal: null });
        } finally {
          cli.kill();
          await proxy.close();
        }
      }));

    test(`over ${transport}, a lost node means a new session and recovered:false`, async () => {
      let server = await startHerald();
      const proxy = await startProxy(server.port);
      const room = uniq('room');
      const cli = await joined(proxy.url, 'erin', room, { transport });
      try {
        await publishJson(server, { group: room, data: { text: 'on the first node' } });
        const first = await cli.untilLine(isMessage(room, 'on the first node'), 'the first node\'s message');

        // The node goes away for good; a new one (empty, new epochs) takes its address.
        proxy.hold();
        proxy.cut();
        await server.stop();
        server = await startHerald();
        proxy.retarget(server.port);
        proxy.release();

        const rejoined = await cli.untilLine((l) => l.type === 'rejoined' && l.group === room, 'the rejoin report');
        assert.equal(rejoined.recovered, false, JSON.stringify(rejoined));
        assert.deepEqual(rejoined.since, { seq: first.seq, epoch: first.epoch });
        assert.notEqual(rejoined.epoch, first.epoch, 'a new node means a new epoch');
        const sessions = cli.lines.filter((l) => l.type === 'session');
        assert.equal(sessions.length, 2, `a second session line after the loss\n${cli.describe()}`);
        assert.notEqual(sessions[0].session, sessions[1].session);

        await publishJson(server, { group: room, data: { text: 'on the second node' } });
        await cli.untilLine(isMessage(room, 'on the second node'), 'the second node\'s message');
        cli.send(`who ${room}`);
        assert.deepEqual((await cli.reply(`who ${room}`)).result, { users: ['erin'], count: 1 });
        assertEidOrder(cli);

        cli.endInput();
        assert.deepEqual(await cli.exit(), { code: 0, signal: null });
      } finally {
        cli.kill();
        await proxy.close();
        await server.stop();
      }
    });
  }
});

describe('herald-cli: exit codes', () => {
  for (const transport of TRANSPORTS) {
    test(`over ${transport}, an unreachable server exits 3 with a clear message`, async () => {
      const port = await unusedPort();
      const cli = startCli(`http://127.0.0.1:${port}`, 'frank', { transport });
      try {
        cli.endInput();
        const { code } = await cli.exit();
        assert.equal(code, 3, cli.describe());
        assert.ok(cli.stderr.some((l) => l.includes(`cannot reach http://127.0.0.1:${port}`)), cli.describe());
      } finally {
        cli.kill();
      }
    });

    test(`over ${transport}, a refused user name exits 4 with the server's error`, () =>
      withHerald([], async (server) => {
        const cli = startCli(server.url, 'x'.repeat(65), { transport });
        try {
          const { code } = await cli.exit();
          assert.equal(code, 4, cli.describe());
          assert.ok(cli.stderr.some((l) => /refused.*params\.user.*bad_request/.test(l)), cli.describe());
          assert.equal(cli.lines.length, 0, 'nothing on stdout');
        } finally {
          cli.kill();
        }
      }));
  }

  test('bad usage exits 2 and names the problem; --help exits 0', async () => {
    const cases = [
      [['--url', 'http://127.0.0.1:1'], /--user is required/],
      [['--user', 'a', '--transport', 'pigeon'], /--transport: expected websocket, longpoll or sse/],
      [['--user', 'a', '--url', 'https://x'], /--url: unsupported URL scheme 'https'/],
      [['--user', 'a', '--frobnicate'], /unknown flag '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const cli = new Cli(args);
      cli.endInput();
      const { code } = await cli.exit();
      assert.equal(code, 2, cli.describe());
      assert.ok(cli.stderr.some((l) => message.test(l)), cli.describe());
    }
    const help = new Cli(['--help']);
    await help.exit();
    assert.equal(help.exitInfo.code, 0);
    // --help prints text, not JSON: read the raw lines it produced.
    assert.ok(help.badLines.some((l) => l.startsWith('Usage: herald-cli')), help.describe());
  });
});
