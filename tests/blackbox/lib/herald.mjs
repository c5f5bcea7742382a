// Black-box harness: starts the real `build/herald` binary and talks to it over
// HTTP, exactly as a client would. No sleeps: every wait is on a condition (a log
// line, a response, a process exit) and every wait is bounded so that a missing
// condition fails the test instead of hanging it. Tests never assert durations.
//
// Run (Node 20), from the repository root, after `npm ci`:
//   node --test --test-concurrency=2 tests/blackbox/
// HERALD_BIN overrides the binary (default <repo>/build/herald). Other HERALD_*
// variables of the calling shell are not passed to the server.
//
// This file is the index the tests import from; each module holds one concern:
//   fixture.mjs     useHerald / useHeralds (a suite's nodes), withHerald (a test's own
//                   node), the wrapped `test` (log tails on failure), describe/before/after
//   process.mjs     startHerald, runHerald, hermetic environment, config files, log tails
//   bounded.mjs     bounded waiting, ANSWER_BOUND_MS
//   names.mjs       uniq names, unknownSessionLike
//   http.mjs        request, rpc, call, callError, enter, listen, publishJson, assertAlive
//   assertions.mjs  assertError, assertKeys, assertTime
//   inbox.mjs       Inbox (a session's long-poll view), the `is` predicates
//   raw.mjs         raw TCP: rawExchange, connectRaw, parseResponses
//   ws_raw.mjs      a WebSocket on a raw socket: fragments, close codes, early frames
//   streams.mjs     StreamReader, SseReader, FrameReader, openSse, openForeverFrame, openHttpStream
//   eventsource.mjs Collector, eventSourceFetch (for the `eventsource` npm client)
// Beside them, not re-exported here: cli.mjs (herald-cli and a TCP proxy) and
// metrics.mjs (reading GET /metrics).
//
// A suite:
//   describe('groups with --history 3', () => {
//     const herald = useHerald(['--history', '3']);
//     test('…', async () => { const s = await enter(herald.url, 'ann', ['lobby']); … });
//   });
// Several nodes: useHeralds(3, (i, nodes) => args), or useHerald called once per node.
// A test with a node of its own (e.g. one it sends SIGTERM):
//   test('…', () => withHerald(['--drain-timeout', '2'], async (server) => { … }));

export * from './assertions.mjs';
export * from './bounded.mjs';
export * from './eventsource.mjs';
export * from './fixture.mjs';
export * from './http.mjs';
export * from './inbox.mjs';
export * from './names.mjs';
export * from './process.mjs';
export * from './raw.mjs';
export * from './ws_raw.mjs';
export * from './streams.mjs';
