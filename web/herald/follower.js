// Tab sharing, the follower's half (the leader's is in client.js): a tab that does not hold the
// Web Lock runs no Engine of its own.

import { CommandQueue } from './bookkeeping.js';

/** The follower side of a shared connection: mirrors the leader, relays commands to it. */
export class Follower {
  constructor(client) {
    this.client = client;
    this.leader = null;
    this.queue = new CommandQueue({ max: client.options.queueMax });
    this.client.applyState({ state: 'connecting', transport: null, session: null });
  }

  command(method, params) {
    const promise = this.queue.push(method, params);
    this.pump();
    return promise;
  }

  pump() {
    if (!this.leader || !this.client.channel) return;
    for (const entry of this.queue.take()) {
      this.client.channel.postMessage({ kind: 'command', from: this.client.tabId, to: this.leader, id: entry.id, method: entry.method, params: entry.params });
    }
  }

  onChannel(msg) {
    const client = this.client;
    if (msg.kind === 'leader') {
      if (this.leader !== msg.from) {
        if (this.leader) this.queue.connectionLost();
        this.leader = msg.from;
        // What this tab asked for at connect time, through the leader (join is idempotent).
        if (!this.joinedWishes) {
          this.joinedWishes = true;
          for (const g of client.options.groups) this.command('join', { group: g }).catch(() => {});
        }
      }
      this.pump();
    } else if (msg.kind === 'reply' && msg.to === client.tabId) {
      const entry = this.queue.settle(msg);
      if (entry && !msg.error) {
        if (entry.method === 'join') client.tracker.joined(entry.params.group, msg.result);
        if (entry.method === 'leave') client.tracker.left(entry.params.group);
        if (entry.method === 'join' || entry.method === 'leave') client.emit('groups', client.groups);
      }
    } else if (msg.kind === 'snapshot' && (!msg.to || msg.to === client.tabId)) {
      this.leader = msg.from;
      this.adoptSession(msg.session, msg.lastEid);
      const before = client.groups.join('\n');
      for (const [group, position] of msg.positions) client.tracker.joined(group, position);
      for (const group of msg.groups) client.tracker.joinedGroups.add(group);
      for (const group of client.tracker.groups()) if (!msg.groups.includes(group)) client.tracker.left(group);
      if (client.groups.join('\n') !== before) client.emit('groups', client.groups);
      client.applyState({ state: msg.state, transport: msg.transport, session: msg.session });
      this.pump();
    } else if (msg.kind === 'event') {
      this.adoptSession(msg.session);
      client.deliver(msg.event, false);
    } else if (msg.kind === 'session') {
      this.adoptSession(msg.info.session, 0);
      client.emit('session', msg.info);
    } else if (msg.kind === 'recovered') {
      client.emit('recovered', msg.info);
    }
  }

  /**
   * Follows the leader's session. A new session restarts eid counting. The first snapshot of
   * an already running session skips what the leader delivered before this tab listened.
   */
  adoptSession(session, lastEid) {
    const tracker = this.client.tracker;
    if (!session || session === tracker.session) return;
    tracker.startSession(session, lastEid || 0);
  }

  leaderGone(id) {
    if (this.leader !== id) return;
    this.leader = null;
    this.queue.connectionLost();
    this.client.applyState({ state: 'reconnecting', transport: null, session: this.client.session });
  }

  /** This tab becomes the leader: what waits here moves to its engine. */
  handOver() {
    this.queue.connectionLost();
    const pending = this.queue.waiting.splice(0);
    return pending;
  }

  close() {
    this.queue.rejectAll('closed', 'the client is closed');
  }
}
