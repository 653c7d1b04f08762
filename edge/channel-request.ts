/**
 * The channel fields of POST /publish, checked:
 *
 * ```
 * "channels":    ["email","sms","push"]   channels besides in-app (default none: in-app only)
 * "content":     {"email":{"subject","text","html"?},"sms":{"text"},"push":{"title","body","url"?}}
 * "template_id": "welcome"                a stored template (PUT /templates/{id}) instead of content
 * "data":        {...}                    the template's variables
 * "critical":    true                     preferences cannot mute it, in-app included (nor can they for a
 *                                         critical topic)
 * ```
 *
 * A channel asked for without content gets a default built from the message
 * (sinks/channels/content.ts). Content and template_id exclude each other, and both need channels.
 */
import { HeraldError } from '../core/errors.ts';
import { isValidId } from '../core/ids.ts';
import { CHANNEL_NAMES, type ChannelContent, type ChannelName } from '../core/types.ts';
import { parseChannelContent } from '../sinks/channels/templates/render.ts';

/** The channel part of a publish request, before the template is rendered. */
export interface ChannelRequest {
  channels: ChannelName[];
  critical: boolean;
  /** Given content, or null. */
  content: ChannelContent | null;
  template_id: string | null;
  /** Template variables ({} when none). */
  data: Record<string, unknown>;
}

/** Body fields of POST /publish that belong to channels. */
export const CHANNEL_FIELDS = ['channels', 'content', 'template_id', 'data', 'critical'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses the channel fields of a publish body.
 * @returns null when the publish asks for no channel and is not critical (in-app only)
 * @throws HeraldError HERALD_EDGE_CHANNELS_INVALID (bad list; content, template or data without
 *   channels; content and template_id together), HERALD_EDGE_CONTENT_INVALID (bad content),
 *   HERALD_EDGE_BODY_INVALID (critical not a boolean, data not an object),
 *   HERALD_EDGE_ID_INVALID (bad template_id)
 */
export function parseChannelRequest(body: Record<string, unknown>): ChannelRequest | null {
  const raw = body.channels ?? [];
  if (!Array.isArray(raw) || !raw.every((c) => (CHANNEL_NAMES as readonly unknown[]).includes(c))) {
    throw new HeraldError('HERALD_EDGE_CHANNELS_INVALID', `channels must be a list of ${CHANNEL_NAMES.map((c) => JSON.stringify(c)).join(', ')} (got ${JSON.stringify(raw).slice(0, 80)}); leave it out for in-app only.`);
  }
  const channels = [...new Set(raw as ChannelName[])];
  const critical = body.critical ?? false;
  if (typeof critical !== 'boolean') throw new HeraldError('HERALD_EDGE_BODY_INVALID', `critical must be true or false (got ${JSON.stringify(critical).slice(0, 40)}).`);
  const hasContent = body.content !== undefined && body.content !== null;
  const templateId = body.template_id ?? null;
  const data = body.data ?? {};
  if (channels.length === 0) {
    if (hasContent || templateId !== null || body.data !== undefined) {
      throw new HeraldError('HERALD_EDGE_CHANNELS_INVALID', 'content, template_id and data are for channels: name them in "channels", e.g. "channels": ["email"].');
    }
    // A critical in-app-only publish: no channel, but the users' in-app mutes must not hide it.
    return critical ? { channels: [], critical: true, content: null, template_id: null, data: {} } : null;
  }
  if (hasContent && templateId !== null) {
    throw new HeraldError('HERALD_EDGE_CHANNELS_INVALID', 'Give either content or template_id (with data), not both.');
  }
  if (templateId !== null && (typeof templateId !== 'string' || !isValidId(templateId))) {
    throw new HeraldError('HERALD_EDGE_ID_INVALID', `template_id must be a string of 1-128 letters, digits, ".", "_", ":" or "-" (got ${JSON.stringify(templateId).slice(0, 80)}).`);
  }
  if (!isObject(data)) throw new HeraldError('HERALD_EDGE_BODY_INVALID', 'data must be a JSON object of the template\'s variables.');
  if (body.data !== undefined && templateId === null) throw new HeraldError('HERALD_EDGE_CHANNELS_INVALID', 'data holds template variables: give template_id too, or put the text in content.');
  const content = hasContent ? parseChannelContent(body.content, 'content') : null;
  if (content !== null) {
    const extra = Object.keys(content).filter((c) => !channels.includes(c as ChannelName));
    if (extra.length > 0) throw new HeraldError('HERALD_EDGE_CHANNELS_INVALID', `content has ${extra.join(', ')} but channels does not ask for ${extra.length === 1 ? 'it' : 'them'}: add ${extra.map((c) => JSON.stringify(c)).join(', ')} to channels, or remove that content.`);
  }
  return { channels, critical, content, template_id: templateId as string | null, data };
}
