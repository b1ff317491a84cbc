// SPDX-License-Identifier: Apache-2.0
// Following one submission: the WebSocket first (events in order, replayed from the start to a late
// or reconnecting subscriber), reconnecting a few times when it drops, and polling
// GET /api/v1/submissions/{id} when no WebSocket can be had. The result is never lost: whichever
// path ends it, the final record is what the page shows.
import { api, ApiError, FINAL, type PageConfig, type Submission } from './api';

export type Transport = 'connecting' | 'websocket' | 'reconnecting' | 'polling';

export interface StreamHandlers {
  status(status: string, phase?: string): void;
  output(stream: 'stdout' | 'stderr', data: string): void;
  /** The output shown so far is about to be sent again from the start (replay or polling). */
  reset(): void;
  result(sub: Submission): void;
  transport(kind: Transport): void;
  error(err: ApiError): void;
}

const CONNECT_TIMEOUT_MS = 4000;
const MAX_RECONNECTS = 3;

export function wsUrl(cfg: PageConfig, id: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.hostname}:${cfg.ws_port}${cfg.ws_path}${encodeURIComponent(id)}`;
}

/** Follows submission id until its result; returns a function that stops following. */
export function follow(cfg: PageConfig, id: string, h: StreamHandlers): () => void {
  let done = false;
  let ws: WebSocket | null = null;
  let timer: number | undefined;
  let reconnects = 0;
  let shown = false; // some output or status of this attempt reached the page

  const finish = (sub: Submission): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    h.result(sub);
  };

  const poll = (): void => {
    h.transport('polling');
    let delay = 300;
    let lastStatus = '';
    const tick = async (): Promise<void> => {
      if (done) return;
      try {
        const sub = await api.get(id);
        if (done) return;
        if (FINAL(sub.status)) {
          h.reset();
          finish(sub);
          return;
        }
        if (sub.status !== lastStatus) h.status((lastStatus = sub.status));
        delay = Math.min(delay * 1.5, 2000);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) {
          done = true;
          h.error(e);
          return;
        }
        delay = Math.min(delay * 2, 5000); // the server may be restarting: keep trying
      }
      timer = window.setTimeout(tick, delay);
    };
    void tick();
  };

  const connect = (): void => {
    if (done) return;
    let opened = false;
    let replaying = reconnects > 0 && shown;
    let socket: WebSocket;
    try {
      socket = new WebSocket(wsUrl(cfg, id));
    } catch {
      poll();
      return;
    }
    ws = socket;
    h.transport(reconnects > 0 ? 'reconnecting' : 'connecting');
    timer = window.setTimeout(() => {
      // Black-holed port, or refused by a policy (CSP) without an event: stop waiting for it.
      if (opened || done) return;
      socket.onclose = socket.onmessage = socket.onopen = null;
      socket.close();
      ws = null;
      poll();
    }, CONNECT_TIMEOUT_MS);

    socket.onopen = () => {
      opened = true;
      clearTimeout(timer);
      h.transport('websocket');
    };
    socket.onmessage = (ev) => {
      let msg: any;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (replaying) {
        replaying = false;
        h.reset(); // the stream is replayed from its first event
      }
      switch (msg.type) {
        case 'status':
          shown = true;
          h.status(msg.status, msg.phase);
          break;
        case 'stdout':
        case 'stderr':
          shown = true;
          h.output(msg.type, String(msg.data ?? ''));
          break;
        case 'result':
          finish({ id, ...(msg.result ?? {}) } as Submission);
          socket.close(1000);
          break;
        case 'error':
          // not_found (the stream and the row are both gone) or unavailable: ask REST.
          socket.onclose = null;
          socket.close();
          poll();
          break;
      }
    };
    socket.onerror = () => {
      /* onclose follows and decides */
    };
    socket.onclose = () => {
      clearTimeout(timer);
      ws = null;
      if (done) return;
      if (!opened) {
        poll(); // never connected: the port is blocked, refused or dead
        return;
      }
      if (reconnects < MAX_RECONNECTS) {
        reconnects++;
        h.transport('reconnecting');
        timer = window.setTimeout(connect, 400 * reconnects);
      } else poll();
    };
  };

  connect();
  return () => {
    done = true;
    clearTimeout(timer);
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  };
}
