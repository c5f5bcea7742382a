// The transports by name, and which of them can work in this environment.
//
// Each transport serves one connection attempt of an Engine and is thrown away afterwards.
//   send(frames) → Promise<replies[]>    a batch of command frames, replies in order
//   open()       → Promise               the command path works (ws: the socket is open)
//   stream(session, cursor) → Promise    resolves once events flow (not used by ws: enter
//                                         and attach stream on the socket itself)
//   stop()                               closes everything, quietly
// and reports to its engine: engine.onEvent(event), engine.onEnd(transport, ending), where
// ending.kind is 'cut' | 'superseded' | 'session_lost' | 'reconnect'.

import { ForeverFrameTransport } from './frame.js';
import { LongPollTransport, SseTransport } from './http.js';
import { JsonpTransport } from './jsonp.js';
import { WebSocketTransport } from './websocket.js';

export const TRANSPORT_CLASSES = {
  ws: WebSocketTransport,
  sse: SseTransport,
  longpoll: LongPollTransport,
  jsonp: JsonpTransport,
  frame: ForeverFrameTransport,
};

/** Whether transport `name` can work in this environment at all, for a server at `url`. */
export function transportAvailable(name, url) {
  const hasDocument = typeof document !== 'undefined' && !!document.createElement;
  switch (name) {
    case 'ws':
      return typeof WebSocket === 'function';
    case 'sse':
      return typeof EventSource === 'function';
    case 'longpoll':
      return typeof fetch === 'function';
    case 'jsonp':
      return hasDocument;
    case 'frame':
      // The frame calls parent.<callback>: only a same-origin page may be called.
      return hasDocument && typeof location !== 'undefined' && new URL(url).origin === location.origin;
    default:
      return false;
  }
}
