/**
 * Notification templates and per-topic settings, managed by publishers:
 * - `PUT /templates/{template_id}` body = the template's content,
 *   `{"email"?: {"subject","text","html"?}, "sms"?: {"text"}, "push"?: {"title","body","url"?}}`,
 *   every field a Handlebars template → 200 `{"template_id","content","updated_at"}` (created or
 *   replaced whole; `updated_at` ISO 8601 with ms);
 * - `GET /templates/{template_id}` → 200, the same shape; none → 404 HERALD_EDGE_TEMPLATE_NOT_FOUND;
 * - `DELETE /templates/{template_id}` → 204; none → 404 HERALD_EDGE_TEMPLATE_NOT_FOUND;
 * - `PUT /topics/{topic_id}/settings` `{"critical": true|false}` → 200 `{"topic_id","critical"}`;
 *   `GET` → the same shape (none stored: `critical: false`). A critical topic's publishes reach
 *   users whatever their preferences.
 *
 * A publish names a template with `template_id` and `data`; the edge renders it then
 * (sinks/channels/templates/render.ts has the rules: strict variables, HTML escaping only in
 * email.html).
 *
 * Validation (400, nothing stored): content → HERALD_EDGE_CONTENT_INVALID (shape, lengths, push
 * url not http(s), no channel at all); a field that is not a valid template →
 * HERALD_EDGE_TEMPLATE_INVALID; settings → HERALD_EDGE_BODY_INVALID; a bad id in the path →
 * HERALD_EDGE_ID_INVALID. Auth: publisher key (edge/auth/access.ts).
 */
import { HeraldError } from '../../core/errors.ts';
import { isValidId } from '../../core/ids.ts';
import type { NotificationTemplate, TemplateStore } from '../../stores/types.ts';
import { compileTemplate, parseChannelContent } from '../../sinks/channels/templates/render.ts';
import type { RouteParams, Router } from '../http/router.ts';
import { readJsonBody, sendJson } from '../http/json.ts';
import { requireObject } from '../validate.ts';

/** Body limit of PUT /templates/…, bytes: 256 KiB of html and of text, JSON-escaped, fit. */
const TEMPLATE_BODY_LIMIT_BYTES = 1024 * 1024;
/** Body limit of PUT /topics/…/settings, bytes. */
const SETTINGS_BODY_LIMIT_BYTES = 4 * 1024;

/** A path id, checked. @throws HeraldError HERALD_EDGE_ID_INVALID */
function idOf(params: RouteParams | undefined, name: 'template_id' | 'topic_id'): string {
  const raw = params?.[name];
  if (raw === undefined || raw === '' || !isValidId(raw)) {
    throw new HeraldError('HERALD_EDGE_ID_INVALID', `${name} in the path must be 1-128 letters, digits, ".", "_", ":" or "-" (got ${JSON.stringify(raw ?? '').slice(0, 80)}).`);
  }
  return raw;
}

/** The JSON of a template: `updated_at` as ISO 8601 with ms. */
function templateJson(t: NotificationTemplate): { template_id: string; content: NotificationTemplate['content']; updated_at: string } {
  return { template_id: t.template_id, content: t.content, updated_at: new Date(t.updated_at).toISOString() };
}

function notFound(templateId: string): HeraldError {
  return new HeraldError('HERALD_EDGE_TEMPLATE_NOT_FOUND', `There is no template ${JSON.stringify(templateId)}: create it with PUT /templates/${templateId}.`);
}

/** Registers the routes (see the module comment). */
export function templateRoutes(router: Router, store: TemplateStore): void {
  router.on('PUT', '/templates/:template_id', async (req, res, _url, params) => {
    const body = await readJsonBody(req, TEMPLATE_BODY_LIMIT_BYTES);
    const templateId = idOf(params, 'template_id');
    const content = parseChannelContent(body, '');
    if (Object.keys(content).length === 0) {
      throw new HeraldError('HERALD_EDGE_CONTENT_INVALID', 'A template needs content for at least one channel: send {"email"?: {"subject", "text", "html"?}, "sms"?: {"text"}, "push"?: {"title", "body", "url"?}}.');
    }
    compileTemplate(content); // throws HERALD_EDGE_TEMPLATE_INVALID naming the field
    const stored = await store.putTemplate({ template_id: templateId, content, updated_at: Date.now() });
    sendJson(res, 200, templateJson(stored));
  });
  router.on('GET', '/templates/:template_id', async (_req, res, _url, params) => {
    const templateId = idOf(params, 'template_id');
    const template = await store.getTemplate(templateId);
    if (template === null) throw notFound(templateId);
    sendJson(res, 200, templateJson(template));
  });
  router.on('DELETE', '/templates/:template_id', async (_req, res, _url, params) => {
    const templateId = idOf(params, 'template_id');
    if (!(await store.deleteTemplate(templateId))) throw notFound(templateId);
    res.writeHead(204, { 'cache-control': 'no-store' });
    res.end();
  });
  router.on('PUT', '/topics/:topic_id/settings', async (req, res, _url, params) => {
    const body = await readJsonBody(req, SETTINGS_BODY_LIMIT_BYTES);
    const topicId = idOf(params, 'topic_id');
    const b = requireObject(body, ['critical']);
    if (typeof b.critical !== 'boolean') throw new HeraldError('HERALD_EDGE_BODY_INVALID', `critical must be true or false (got ${JSON.stringify(b.critical ?? null).slice(0, 40)}); send {"critical": true}.`);
    sendJson(res, 200, { topic_id: topicId, ...(await store.setTopicSettings(topicId, { critical: b.critical })) });
  });
  router.on('GET', '/topics/:topic_id/settings', async (_req, res, _url, params) => {
    const topicId = idOf(params, 'topic_id');
    sendJson(res, 200, { topic_id: topicId, ...(await store.topicSettings(topicId)) });
  });
}
