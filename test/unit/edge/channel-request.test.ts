/** POST /publish channel fields: what is accepted, and the 400 codes of what is not. */
import { describe, expect, it } from 'vitest';
import { parseChannelRequest } from '../../../edge/channel-request.ts';
import { HeraldError } from '../../../core/errors.ts';

const codeOf = (body: Record<string, unknown>): string => {
  try {
    parseChannelRequest(body);
  } catch (err) {
    if (err instanceof HeraldError) return err.code;
    throw err;
  }
  return 'accepted';
};

describe('parseChannelRequest', () => {
  it('in-app only when no channels are asked for; a critical one keeps its flag (in-app mutes do not apply)', () => {
    expect(parseChannelRequest({})).toBeNull();
    expect(parseChannelRequest({ channels: [] })).toBeNull();
    expect(parseChannelRequest({ channels: [], critical: false })).toBeNull();
    expect(parseChannelRequest({ channels: [], critical: true })).toEqual({ channels: [], critical: true, content: null, template_id: null, data: {} });
    expect(parseChannelRequest({ critical: true })).toEqual({ channels: [], critical: true, content: null, template_id: null, data: {} });
  });

  it('accepts channels (deduplicated) with content, or a template with data', () => {
    expect(parseChannelRequest({ channels: ['email', 'sms', 'email'], critical: true, content: { email: { subject: 's', text: 't' } } })).toEqual({
      channels: ['email', 'sms'],
      critical: true,
      content: { email: { subject: 's', text: 't' } },
      template_id: null,
      data: {},
    });
    expect(parseChannelRequest({ channels: ['push'], template_id: 'welcome', data: { name: 'Ada' } })).toEqual({ channels: ['push'], critical: false, content: null, template_id: 'welcome', data: { name: 'Ada' } });
  });

  it('refuses what it cannot honour, with a code', () => {
    expect(codeOf({ channels: 'email' })).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect(codeOf({ channels: ['fax'] })).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect(codeOf({ content: { sms: { text: 't' } } })).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect(codeOf({ template_id: 'welcome' })).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect(codeOf({ channels: ['sms'], content: { sms: { text: 't' } }, template_id: 'welcome' })).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect(codeOf({ channels: ['sms'], content: { email: { subject: 's', text: 't' } } })).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect(codeOf({ channels: ['sms'], data: { a: 1 } })).toBe('HERALD_EDGE_CHANNELS_INVALID');
    expect(codeOf({ channels: ['sms'], template_id: 'bad id' })).toBe('HERALD_EDGE_ID_INVALID');
    expect(codeOf({ channels: ['sms'], template_id: 'ok', data: [1] })).toBe('HERALD_EDGE_BODY_INVALID');
    expect(codeOf({ channels: ['sms'], critical: 'yes' })).toBe('HERALD_EDGE_BODY_INVALID');
    expect(codeOf({ channels: ['sms'], content: { sms: {} } })).toBe('HERALD_EDGE_CONTENT_INVALID');
  });
});
