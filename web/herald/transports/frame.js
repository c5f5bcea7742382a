// The forever-frame: a hidden iframe on /v1/stream whose endless response calls a function of
// this page per event (same origin only); commands by POST /v1/rpc.

import { HeraldError, endpoint } from '../helpers.js';
import { HttpCommands } from './http.js';
import { callbackRegistry, nextCallbackKey } from './jsonp.js';

export class ForeverFrameTransport extends HttpCommands {
  constructor(engine) {
    super(engine);
    this.name = 'frame';
  }

  stream(session, cursor) {
    return new Promise((resolve, reject) => {
      const registry = callbackRegistry('__heraldFrame');
      const key = nextCallbackKey('f');
      this.key = key;
      let opened = false;
      let calls = 0;
      const open = () => {
        if (opened) return;
        opened = true;
        this.engine.alive(this);
        resolve();
      };
      registry[key] = (event) => {
        if (this.stopped || !event) return;
        calls += 1;
        open();
        this.engine.alive(this);
        if (event.type === 'heartbeat') return;
        if (event.type === 'reconnect') this.end({ kind: 'reconnect', reason: event.reason });
        else if (event.type === 'end') this.end({ kind: 'superseded' });
        else if (event.type === 'error') this.end({ kind: 'session_lost', reason: event.error && event.error.code });
        else this.engine.onEvent(event, this);
      };
      const iframe = document.createElement('iframe');
      this.iframe = iframe;
      iframe.setAttribute('aria-hidden', 'true');
      iframe.tabIndex = -1;
      iframe.title = 'Herald event stream';
      iframe.style.cssText = 'position:absolute;width:0;height:0;border:0;visibility:hidden';
      iframe.onload = () => {
        // The response ended. One that never called us is an error page (JSON, same origin).
        if (this.stopped) return;
        let code;
        if (calls === 0) {
          try {
            code = JSON.parse(iframe.contentDocument.body.textContent).error.code;
          } catch {
            code = undefined;
          }
        }
        if (code === 'unknown_session') {
          resolve();
          this.end({ kind: 'session_lost' });
          return;
        }
        if (!opened) {
          this.stop();
          reject(new HeraldError('connect_failed', `the forever-frame did not stream${code ? ' (' + code + ')' : ''}`));
          return;
        }
        this.end({ kind: 'cut', reason: 'the forever-frame response ended' });
      };
      iframe.src = endpoint(this.engine.url, '/v1/stream', { session, cursor, callback: '__heraldFrame.' + key });
      document.body.appendChild(iframe);
      // The stream is open once the frame's document is being parsed from our URL (its 1 KiB
      // preamble arrives at once; the first call may be a heartbeat interval away).
      const watch = setInterval(() => {
        if (this.stopped || opened) return clearInterval(watch);
        let doc;
        try {
          doc = iframe.contentDocument;
        } catch {
          doc = null;
        }
        if (doc && doc.readyState === 'loading' && doc.URL.indexOf('/v1/stream') >= 0) {
          clearInterval(watch);
          open();
        }
      }, 50);
    });
  }

  closeStream() {
    if (this.key) callbackRegistry('__heraldFrame')[this.key] = () => {};
    if (this.iframe) {
      this.iframe.onload = null;
      this.iframe.src = 'about:blank';
      this.iframe.remove();
    }
  }
}
