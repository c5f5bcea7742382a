// The benchmark scenarios of BENCHMARKS.md, at full scale and as a smoke run (seconds, tiny
// counts). Each run names herald-loadgen flags; bench/run spreads `subscribers` over
// `procs` processes (each under the 20,000 fd limit) and adds the URL, dialect and channels.
//
// metrics: which figures the report table shows for the scenario (see METRICS in run.mjs).

/** Subscribers per load generator process at full scale (fd limit 20,000 per process). */
export const MAX_PER_PROC = 15_000;

const procsFor = (subscribers) => Math.max(1, Math.ceil(subscribers / MAX_PER_PROC));

const THROUGHPUT = ['deliveries_per_s', 'publish_rate', 'loss', 'p50', 'p99', 'p999', 'max', 'last_p99', 'pub_p50', 'pub_p99',
  'cpu_us', 'rss_mb'];
const LATENCY = ['deliveries_per_s', 'publish_rate', 'loss', 'p50', 'p99', 'p999', 'max', 'last_p99', 'pub_p50', 'pub_p99', 'cpu_us'];
const IDLE = ['ready', 'setup_rate', 'rss_per_conn_kb', 'rss_mb'];
const CHAT = ['deliveries_per_s', 'deliveries_per_core', 'publish_rate', 'loss', 'p50', 'p99', 'p999', 'cpu_us',
  'reconnects', 'reconnect_p50', 'reconnect_p99', 'rss_mb'];

function full() {
  const list = [];
  // 1. One group, one subscriber, at set rates. nchan ids are (second, int16): one channel
  // loses messages above ~32,767 msg/s, which this scenario shows.
  for (const rate of [30_000, 50_000, 100_000])
    list.push({
      name: `one-sub-${rate / 1000}k`, transport: 'ws', subscribers: 1, rate, duration: 10, warmup: 2,
      pubConnections: 4, pipeline: 64, metrics: LATENCY, goal: 'zero loss; p99 < 1 ms at 30k/s',
    });
  // 2. and 3. Fan-out flat out, and at 10 msg/s for the last-subscriber time.
  for (const transport of ['ws', 'sse']) {
    list.push({
      name: `fanout-1k-${transport}`, transport, subscribers: 1000, rate: 0, duration: 10, warmup: 2,
      pubConnections: 4, pipeline: 16, metrics: THROUGHPUT, goal: '≥ 2× nchan deliveries/s, zero loss',
      family: `fanout-1k-${transport}`,
    });
    // 2b. The same flat out as a backend publishes (issue 17): one message per request, one
    // request in flight on each of K keep-alive connections, the one channel spread over all K.
    for (const k of transport === 'ws' ? [1, 4] : [4])
      list.push({
        name: `fanout-1k-${transport}-1inflight-k${k}`, transport, subscribers: 1000, rate: 0, duration: 10, warmup: 2,
        pubConnections: k, pipeline: 1, spread: true, metrics: THROUGHPUT,
        goal: '≥ 2× nchan deliveries/s; p99 and max not far above p50',
        family: `fanout-1k-${transport}`,
      });
  }
  list.push({
    name: 'fanout-10k-ws', transport: 'ws', subscribers: 10_000, rate: 0, duration: 10, warmup: 2,
    pubConnections: 4, pipeline: 16, metrics: THROUGHPUT, goal: '≥ 2× nchan deliveries/s',
  });
  list.push({
    name: 'fanout-10k-ws-10hz', transport: 'ws', subscribers: 10_000, rate: 10, duration: 20, warmup: 2,
    metrics: LATENCY, goal: 'last-subscriber p99 ≤ ½ nchan',
  });
  // 4. Idle density.
  for (const transport of ['ws', 'sse', 'longpoll'])
    list.push({
      name: `idle-18k-${transport}`, transport, subscribers: 18_000, idle: true, duration: 5,
      metrics: IDLE, goal: '≤ 3 KB RSS per connection; setup rate reported',
    });
  // 5. Long-poll bursts.
  list.push({
    name: 'longpoll-1k-20hz', transport: 'longpoll', subscribers: 1000, rate: 20, duration: 20, warmup: 2,
    metrics: LATENCY, goal: 'zero missing; less CPU/delivery than nchan',
  });
  list.push({
    name: 'longpoll-10k-3hz', transport: 'longpoll', subscribers: 10_000, rate: 3, duration: 20, warmup: 2,
    metrics: LATENCY, goal: 'zero missing; less CPU/delivery than nchan',
  });
  // 6. Chat mix: session i is user u-i (its own user channel) and in room-(i / 10). Rooms speak
  // at `rate` msg/s in all (1 msg/s each: 10,000 room deliveries/s), users get `userRate`
  // direct msg/s round-robin, and `churnRate` sessions/s (1 %) drop their socket and resume.
  list.push({
    name: 'chat-mix', transport: 'ws', subscribers: 10_000, rate: 1000, duration: 18, warmup: 2,
    chat: { roomSize: 10, userRate: 1000, churnRate: 100 }, pubConnections: 4, pipeline: 16,
    metrics: CHAT, goal: 'deliveries/s per core and p99 reported; zero loss across churn',
  });
  for (const s of list) s.procs = procsFor(s.subscribers);
  return list;
}

// The same shapes and names, tiny: 1 and 20 subscribers, 200 msg/s (10 msg/s where the full one is
// slow), 2 s. The 20-subscriber ones use two processes so that the multi-process path
// (ready lines, final file, merged histograms) runs too. The chat mix: 40 sessions (4 rooms of
// 10) over two processes, 20 room and 20 direct msg/s, 10 reconnects/s.
function smoke() {
  return full()
    .filter((s) => !/^one-sub-(50|100)k$/.test(s.name))
    .map((s) => ({
      ...s,
      subscribers: s.subscribers === 1 ? 1 : 20,
      procs: s.subscribers === 1 ? 1 : 2,
      rate: s.idle ? undefined : s.rate === 0 || s.rate > 200 ? 200 : s.rate,
      duration: 2,
      warmup: 0,
      // The one-in-flight scenarios keep their publisher; the pipelined ones pipeline less.
      pubConnections: s.spread ? s.pubConnections : 1,
      pipeline: s.spread ? 1 : 4,
      ...(s.chat ? { subscribers: 40, procs: 2, rate: 20, chat: { ...s.chat, userRate: 20, churnRate: 10 } } : {}),
    }));
}

/** Returns the scenario list of a run. */
export function scenarios({ smoke: isSmoke }) {
  return isSmoke ? smoke() : full();
}

/** Scenarios of the issue not implemented yet (the report lists them): none since chat-mix. */
export const NOT_YET = [];
