// Herald demo page: subscribe, publish, and watch notifications arrive live over SSE (GET /stream).
// Plain browser JavaScript, no build step. Talks to the edge that served it (relative URLs).
//
// Reconnects: while the connection is lost, EventSource retries by itself and sends Last-Event-ID,
// so the server resumes right after the last notification received. When the server refuses a
// reconnect (e.g. 503 while it starts), EventSource gives up (readyState CLOSED); the page then
// opens a new one itself with ?last_event_id=<last id>. Duplicates are dropped by id, defensively:
// window.heraldDemo.rawCounts counts every event received per id, so a test can prove the server
// sends none.

const $ = (id) => document.getElementById(id);

const els = {
  state: $('connection-state'),
  stateDetail: $('connection-detail'),
  userId: $('user-id'),
  publisherKey: $('publisher-key'),
  userToken: $('user-token'),
  subscriptions: $('subscriptions'),
  publishResult: $('publish-result'),
  error: $('error'),
  live: $('live'),
  liveCount: $('live-count'),
  missedSince: $('missed-since'),
  missedLimit: $('missed-limit'),
  missedMore: $('missed-more'),
  missedSummary: $('missed-summary'),
  missedList: $('missed-list'),
};

/** For tests and curious users: raw events per id, and every connection state shown. */
const demo = { rawCounts: Object.create(null), states: [], duplicates: 0 };
window.heraldDemo = demo;

// ---- fields kept in localStorage ----------------------------------------------------------

const STORED = { userId: 'herald-demo.user-id', publisherKey: 'herald-demo.publisher-key', userToken: 'herald-demo.user-token' };
for (const [field, key] of Object.entries(STORED)) {
  els[field].value = localStorage.getItem(key) ?? '';
  els[field].addEventListener('change', () => {
    const v = els[field].value.trim();
    if (v) localStorage.setItem(key, v);
    else localStorage.removeItem(key);
  });
}

// ---- HTTP ---------------------------------------------------------------------------------

/** Authorization header for a credential field, only when it is filled. */
function bearer(input) {
  const v = input.value.trim();
  return v ? { authorization: `Bearer ${v}` } : {};
}

/** Sends a request; returns the parsed JSON body or throws Error("HERALD_…: message"). */
async function request(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new Error('The server cannot be reached.');
  }
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const e = json?.error;
    throw new Error(e ? `${e.code}: ${e.message}` : `${method} ${path} → HTTP ${res.status}`);
  }
  return json;
}

function showError(err) {
  els.error.textContent = err ? String(err.message ?? err) : '';
}

function userId() {
  const v = els.userId.value.trim();
  if (!v) throw new Error('Enter a user id first.');
  return v;
}

// ---- notifications list -------------------------------------------------------------------

/** One notification as a list item (textContent only: messages are untrusted). */
function renderNotification(n) {
  const li = document.createElement('li');
  li.dataset.id = n.id;
  const time = document.createElement('time');
  time.dateTime = n.published_at;
  time.textContent = n.published_at;
  const topic = document.createElement('span');
  topic.className = 'topic';
  topic.textContent = n.topic_id;
  const message = document.createElement('span');
  message.className = 'message';
  message.textContent = typeof n.message === 'string' ? n.message : JSON.stringify(n.message);
  const id = document.createElement('code');
  id.className = 'id';
  id.textContent = n.id;
  li.append(time, ' ', topic, ' ', message, ' ', id);
  return li;
}

// ---- live stream --------------------------------------------------------------------------

let source = null; // the EventSource
let streamUser = ''; // whose stream is open
let lastEventId = ''; // id of the last notification received
let attempt = 0; // failed attempts since the stream was last live
let retryTimer = null;
const seen = new Set();

function setState(state) {
  const label = state === 'reconnecting' ? `reconnecting (attempt ${attempt})` : state;
  els.state.dataset.state = state;
  els.state.textContent = label;
  demo.states.push(label);
}

function onNotification(event) {
  const n = JSON.parse(event.data);
  demo.rawCounts[n.id] = (demo.rawCounts[n.id] ?? 0) + 1;
  lastEventId = event.lastEventId || n.id;
  if (seen.has(n.id)) {
    demo.duplicates++;
    return;
  }
  seen.add(n.id);
  els.live.append(renderNotification(n));
  els.liveCount.textContent = `(${seen.size})`;
}

function openStream() {
  retryTimer = null;
  const query = new URLSearchParams({ user_id: streamUser });
  if (lastEventId) query.set('last_event_id', lastEventId); // EventSource's own retries send the header
  const token = els.userToken.value.trim();
  if (token) query.set('token', token); // EventSource cannot set headers
  const es = new EventSource(`stream?${query}`);
  source = es;
  setState(attempt === 0 ? 'connecting' : 'reconnecting');
  es.addEventListener('open', () => {
    attempt = 0;
    setState('live');
    els.stateDetail.textContent = '';
  });
  es.addEventListener('notification', onNotification);
  es.addEventListener('error', () => {
    if (source !== es) return;
    attempt++;
    if (es.readyState === EventSource.CLOSED) {
      // Refused (not 200 text/event-stream): the browser will not retry; we do, with backoff.
      es.close();
      const delay = Math.min(1000 * 2 ** Math.min(attempt - 1, 5), 30_000); // ms
      retryTimer = setTimeout(openStream, delay);
      els.stateDetail.textContent = `The server refused the stream (starting, or no valid user token?); retrying in ${delay / 1000} s.`;
    }
    setState('reconnecting');
  });
}

function closeStream() {
  clearTimeout(retryTimer);
  retryTimer = null;
  source?.close();
  source = null;
  attempt = 0;
  els.stateDetail.textContent = '';
  setState('closed');
}

$('connect-form').addEventListener('submit', (event) => {
  event.preventDefault();
  showError(null);
  const user = els.userId.value.trim();
  localStorage.setItem(STORED.userId, user);
  closeStream();
  if (user !== streamUser) {
    // Another user: start a fresh list.
    streamUser = user;
    lastEventId = '';
    seen.clear();
    els.live.replaceChildren();
    els.liveCount.textContent = '(0)';
  }
  openStream();
});

$('disconnect').addEventListener('click', closeStream);

// ---- subscribe / unsubscribe --------------------------------------------------------------

const subscribed = new Set();

$('subscribe-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(null);
  const action = event.submitter?.value === 'unsubscribe' ? 'unsubscribe' : 'subscribe';
  try {
    const body = { topic_id: $('subscribe-topic').value.trim(), user_id: userId() };
    await request(action === 'subscribe' ? 'POST' : 'DELETE', 'subscribe', { body, headers: bearer(els.publisherKey) });
    const key = `${body.user_id} → ${body.topic_id}`;
    if (action === 'subscribe') subscribed.add(key);
    else subscribed.delete(key);
    els.subscriptions.textContent = subscribed.size ? [...subscribed].join(', ') : 'none';
  } catch (err) {
    showError(err);
  }
});

// ---- publish ------------------------------------------------------------------------------

$('publish-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(null);
  try {
    const body = { topic_id: $('publish-topic').value.trim(), message: $('publish-message').value };
    const r = await request('POST', 'publish', { body, headers: bearer(els.publisherKey) });
    els.publishResult.textContent = r.id;
    els.publishResult.dataset.id = r.id;
  } catch (err) {
    showError(err);
  }
});

// ---- missed notifications (GET /notifications) --------------------------------------------

let missedCursor = null;

async function fetchMissed(cursor) {
  showError(null);
  try {
    const query = new URLSearchParams({ user_id: userId(), limit: els.missedLimit.value || '100' });
    const since = els.missedSince.value.trim();
    if (since) query.set('since', since);
    if (cursor) query.set('cursor', cursor);
    const r = await request('GET', `notifications?${query}`, { headers: bearer(els.userToken) });
    if (!cursor) els.missedList.replaceChildren();
    els.missedList.append(...r.notifications.map(renderNotification));
    missedCursor = r.next_cursor;
    els.missedMore.hidden = !missedCursor;
    els.missedSummary.textContent = `${els.missedList.children.length} notification(s)${missedCursor ? ', more available' : ''}.`;
  } catch (err) {
    showError(err);
  }
}

$('missed-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void fetchMissed(null);
});
els.missedMore.addEventListener('click', () => void fetchMissed(missedCursor));
