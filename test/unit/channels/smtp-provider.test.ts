/**
 * The SMTP email provider against a real SMTP server on loopback (test/helpers/smtp-peer.ts:
 * smtp-server + mailparser). No mocks: every outcome comes from an SMTP conversation.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isValidEmail } from '../../../sinks/channels/email/address.ts';
import { classifySmtpError, createSmtpProvider, messageIdFor, type SmtpProviderOptions } from '../../../sinks/channels/email/smtp-provider.ts';
import type { ChannelProvider, EmailMessage } from '../../../sinks/channels/types.ts';
import { startSmtpPeer, type SmtpPeer } from '../../helpers/smtp-peer.ts';

const FROM = 'herald@notify.example.com';
const FAST = { connectionMs: 2_000, greetingMs: 2_000, socketMs: 5_000 };

function message(n: number, extra: Partial<EmailMessage> = {}): EmailMessage {
  return {
    key: `0198f6a2-7c1e-7000-8000-${String(n).padStart(12, '0')}:alice:email`,
    to: 'alice@example.com',
    subject: `Shipped #${n}`,
    text: `Order ${n} has shipped.`,
    ...extra,
  };
}

describe('SMTP provider', () => {
  let peer: SmtpPeer;
  const providers: ChannelProvider<EmailMessage>[] = [];
  function provider(o: Partial<SmtpProviderOptions> = {}): ChannelProvider<EmailMessage> {
    const p = createSmtpProvider({ url: peer.url, from: FROM, timeouts: FAST, ...o });
    providers.push(p);
    return p;
  }

  beforeEach(async () => {
    peer = await startSmtpPeer();
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
    await peer.close();
  });

  it('sends a mail that arrives parsed, with the deterministic Message-ID and X-Herald-Key', async () => {
    const p = provider();
    expect(p.channel).toBe('email');
    expect(p.name).toBe('smtp');
    const html = '<p>Order <b>1</b> has shipped &amp; is <i>on its way</i>.</p><script>kept()</script>';
    const m = message(1, { html, subject: 'Shipped: Ünïcødé ✓' });
    const outcome = await p.send(m);
    expect(outcome.kind).toBe('sent');
    expect(outcome.kind === 'sent' && outcome.providerId).toMatch(/^250 /);
    expect(peer.received).toHaveLength(1);
    const got = peer.received[0]!;
    expect(got.envelopeFrom).toBe(FROM);
    expect(got.envelopeTo).toEqual(['alice@example.com']);
    expect(got.from).toEqual([FROM]);
    expect(got.to).toEqual(['alice@example.com']);
    expect(got.subject).toBe('Shipped: Ünïcødé ✓');
    expect(got.text?.trim()).toBe('Order 1 has shipped.');
    // HTML arrives exactly as given: the provider neither escapes nor sanitises (the template does).
    expect(got.html?.trim()).toBe(html);
    expect(got.messageId).toBe(messageIdFor(m.key));
    expect(got.messageId).toMatch(/^<[0-9a-f]{64}@herald>$/);
    expect(got.headers.get('x-herald-key')).toBe(m.key);
  });

  it('sends text only when there is no html', async () => {
    expect((await provider().send(message(2))).kind).toBe('sent');
    expect(peer.received[0]!.html).toBeUndefined();
    expect(peer.received[0]!.text?.trim()).toBe('Order 2 has shipped.');
  });

  it('CR/LF in the subject cannot add a header', async () => {
    expect((await provider().send(message(40, { subject: 'Hi\r\nBcc: eve@example.com\r\nX-Evil: 1' }))).kind).toBe('sent');
    const got = peer.received[0]!;
    expect(got.envelopeTo).toEqual(['alice@example.com']);
    expect(got.headers.has('bcc')).toBe(false);
    expect(got.headers.has('x-evil')).toBe(false);
    expect(got.subject).toBe('Hi Bcc: eve@example.com X-Evil: 1');
  });

  it('a resend of the same key carries the same Message-ID; another key another one', async () => {
    const p = provider();
    expect((await p.send(message(3))).kind).toBe('sent');
    expect((await p.send(message(3))).kind).toBe('sent');
    expect((await p.send(message(4))).kind).toBe('sent');
    const ids = peer.received.map((r) => r.messageId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(messageIdFor('k', 'mail.example.com')).toBe(messageIdFor('k').replace('@herald>', '@mail.example.com>'));
  });

  it('451 after DATA → retry, then the resend is sent', async () => {
    const p = provider();
    peer.failNext(1, { code: 451, message: 'Temporary local problem' });
    const first = await p.send(message(5));
    expect(first).toMatchObject({ kind: 'retry' });
    expect(first.kind === 'retry' && first.reason).toContain('451');
    expect(peer.received).toHaveLength(0);
    expect((await p.send(message(5))).kind).toBe('sent');
    expect(peer.received).toHaveLength(1);
  });

  it('450/452 at RCPT TO → retry; 421 and a rate-limit 451 → throttled retry (the provider is paused, no attempt counted)', async () => {
    const p = provider();
    for (const code of [450, 452]) {
      peer.failNext(1, { code, phase: 'rcpt' });
      const out = await p.send(message(code));
      expect(out).toMatchObject({ kind: 'retry' });
      expect(out).not.toHaveProperty('throttled');
    }
    peer.failNext(1, { code: 421, phase: 'rcpt' });
    expect(await p.send(message(421))).toMatchObject({ kind: 'retry', throttled: true });
    peer.failNext(1, { code: 451, phase: 'rcpt', message: '4.7.1 Too many messages, slow down' });
    expect(await p.send(message(451))).toMatchObject({ kind: 'retry', throttled: true });
    expect(peer.refused).toBe(4);
    expect(peer.received).toHaveLength(0);
  });

  it('pooled: a 421 (server closes the connection) is requeued by the pool on a new connection and arrives once', async () => {
    const p = provider({ pool: { maxConnections: 1 } });
    expect((await p.send(message(30))).kind).toBe('sent');
    peer.failNext(1, { code: 421, phase: 'rcpt', message: 'Too busy, closing' });
    expect((await p.send(message(31))).kind).toBe('sent');
    expect(peer.refused).toBe(1);
    expect(peer.received.map((r) => r.subject)).toEqual(['Shipped #30', 'Shipped #31']);
    expect(peer.connections).toBe(2);
  });

  it('550 at RCPT TO → failed SMTP_550; 553 → SMTP_553; 554 after DATA → SMTP_554', async () => {
    const p = provider();
    peer.failNext(1, { code: 550, phase: 'rcpt', message: 'Mailbox unavailable' });
    const o550 = await p.send(message(6));
    expect(o550).toMatchObject({ kind: 'failed', code: 'SMTP_550' });
    expect(o550.kind === 'failed' && o550.reason).toContain('Mailbox unavailable');
    peer.failNext(1, { code: 553, phase: 'rcpt' });
    expect(await p.send(message(7))).toMatchObject({ kind: 'failed', code: 'SMTP_553' });
    peer.failNext(1, { code: 554, phase: 'data', message: 'Message rejected as spam' });
    expect(await p.send(message(8))).toMatchObject({ kind: 'failed', code: 'SMTP_554' });
    expect(peer.received).toHaveLength(0);
  });

  it('server down (connection refused) → retry; back up → sent, pooled and not', async () => {
    for (const pool of [false, { maxConnections: 2 }] as const) {
      const p = provider({ pool });
      expect((await p.send(message(9))).kind).toBe('sent');
      await peer.stop();
      const down = await p.send(message(10));
      expect(down.kind).toBe('retry');
      expect(down.kind === 'retry' && down.reason).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
      await peer.start();
      expect((await p.send(message(10))).kind).toBe('sent');
    }
    expect(peer.received.map((r) => r.subject)).toEqual(['Shipped #9', 'Shipped #10', 'Shipped #9', 'Shipped #10']);
  });

  it('a server that never greets → retry after the greeting timeout', async () => {
    const held = new Set<Socket>();
    const silent: Server = createServer((s) => held.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const p = provider({ url: `smtp://127.0.0.1:${port}`, timeouts: { connectionMs: 1_000, greetingMs: 300, socketMs: 1_000 } });
      const started = Date.now();
      const o = await p.send(message(11));
      expect(o).toMatchObject({ kind: 'retry' });
      expect(o.kind === 'retry' && o.reason).toContain('ETIMEDOUT');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('an invalid address → failed INVALID_ADDRESS without contacting the server', async () => {
    const p = provider();
    for (const to of ['Alice <alice@example.com>', 'alice@localhost', 'alice@example.com\r\nBcc: x@example.com', 'no-at-sign', '']) {
      expect(await p.send(message(12, { to }))).toMatchObject({ kind: 'failed', code: 'INVALID_ADDRESS' });
    }
    expect(peer.connections).toBe(0);
  });

  it('AUTH: right credentials → sent; wrong ones → retry (server configuration, not the message)', async () => {
    const authPeer = await startSmtpPeer({ auth: { user: 'herald', pass: 'p@ss:w/rd' } });
    try {
      const ok = provider({ url: authPeer.url });
      expect((await ok.send(message(13))).kind).toBe('sent');
      expect(authPeer.received).toHaveLength(1);
      const bad = provider({ url: `smtp://herald:wrong@127.0.0.1:${authPeer.port}` });
      const o = await bad.send(message(14));
      expect(o).toMatchObject({ kind: 'retry' });
      expect(o.kind === 'retry' && o.reason).toContain('authentication');
      expect(authPeer.received).toHaveLength(1);
    } finally {
      await authPeer.close();
    }
  });

  it('pooled: 200 messages arrive exactly once over a few connections', async () => {
    const p = provider({ pool: { maxConnections: 5, maxMessages: 100 } });
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => p.send(message(1000 + i, { to: `user${i}@example.com` }))));
    const seconds = (performance.now() - started) / 1000;
    expect(outcomes.every((o) => o.kind === 'sent')).toBe(true);
    expect(peer.received).toHaveLength(200);
    const ids = new Set(peer.received.map((r) => r.messageId));
    expect(ids.size).toBe(200);
    for (let i = 0; i < 200; i++) expect(ids.has(messageIdFor(message(1000 + i).key))).toBe(true);
    expect(new Set(peer.received.map((r) => r.to[0])).size).toBe(200);
    expect(peer.connections).toBeLessThanOrEqual(10);
    // Measured throughput, for the report (loopback, 5 connections).
    process.stderr.write(`smtp pooled: 200 mails in ${seconds.toFixed(2)} s = ${(200 / seconds).toFixed(0)} sends/s over ${peer.connections} connections\n`);
  });

  it('rejects programming errors: empty key, send after close; bad options at creation', async () => {
    const p = provider();
    await expect(p.send(message(15, { key: '' }))).rejects.toThrow(TypeError);
    await p.close();
    await expect(p.send(message(16))).rejects.toThrow(/after close/);
    expect(() => createSmtpProvider({ url: 'http://127.0.0.1:25', from: FROM })).toThrow(/smtp:\/\/ or smtps:\/\//);
    expect(() => createSmtpProvider({ url: 'not a url', from: FROM })).toThrow(TypeError);
    expect(() => createSmtpProvider({ url: 'smtp://u@127.0.0.1', from: FROM })).toThrow(/both user and password/);
    expect(() => createSmtpProvider({ url: peer.url, from: 'Herald <herald@example.com>' })).toThrow(/from/);
    expect(() => createSmtpProvider({ url: peer.url, from: FROM, timeouts: { socketMs: 0 } })).toThrow(/socketMs/);
    expect(() => createSmtpProvider({ url: 'smtp://u:secret@[', from: FROM })).toThrow(TypeError);
  });

  it('an already aborted signal → retry without sending', async () => {
    const o = await provider().send(message(17), AbortSignal.abort());
    expect(o).toMatchObject({ kind: 'retry' });
    expect(peer.connections).toBe(0);
  });
});

describe('classifySmtpError', () => {
  it('maps reply codes and nodemailer codes', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 no such user' })).toMatchObject({ kind: 'failed', code: 'SMTP_550' });
    expect(classifySmtpError({ code: 'EMESSAGE', responseCode: 451 })).toMatchObject({ kind: 'retry' });
    expect(classifySmtpError({ code: 'EPROTOCOL', responseCode: 503 })).toMatchObject({ kind: 'retry' });
    expect(classifySmtpError({ code: 'EENVELOPE', message: 'No recipients defined' })).toMatchObject({ kind: 'failed', code: 'EENVELOPE' });
    expect(classifySmtpError({ code: 'ESOCKET', originalCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED' })).toMatchObject({ kind: 'retry' });
    expect(classifySmtpError({ code: 'ETIMEDOUT' })).toMatchObject({ kind: 'retry' });
    expect(classifySmtpError({ code: 'ECONNECTION' })).toMatchObject({ kind: 'retry' });
    expect(classifySmtpError({ code: 'EAUTH', responseCode: 535 })).toMatchObject({ kind: 'retry' });
    expect(classifySmtpError({})).toMatchObject({ kind: 'retry' });
  });
});

describe('isValidEmail', () => {
  it('accepts plain addresses', () => {
    for (const a of ['alice@example.com', 'a.b+tag@sub.example.co.uk', "o'neil_x-y@xn--bcher-kva.example", 'A@B.CD', `${'a'.repeat(64)}@example.com`]) {
      expect(isValidEmail(a), a).toBe(true);
    }
  });
  it('refuses display names, whitespace, bad dots, literals, dotless and over-long addresses', () => {
    const long = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`; // 259 chars
    for (const a of [
      'Alice <alice@example.com>', '"alice"@example.com', 'alice @example.com', 'alice@example.com ', 'alice@example.com\n',
      '.alice@example.com', 'alice.@example.com', 'al..ice@example.com', 'alice@-example.com', 'alice@example-.com',
      'alice@exa_mple.com', 'alice@[192.0.2.1]', 'alice@192.0.2.1', 'alice@localhost', 'alice@example..com', 'alice@',
      '@example.com', 'a@b@example.com', `${'a'.repeat(65)}@example.com`, long, 'ålice@example.com', 'alice@bücher.example', 42, null,
    ]) {
      expect(isValidEmail(a), String(a)).toBe(false);
    }
  });
});
