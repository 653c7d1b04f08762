/**
 * Channel content and notification templates: checking content, compiling templates with
 * Handlebars (4.7.10, an isolated environment) and rendering them with a publish's `data`.
 *
 * Content is `{email?: {subject, text, html?}, sms?: {text}, push?: {title, body, url?}}` (see
 * core/types.ts ChannelContent); every field is a string, and in a template every field is a
 * Handlebars template.
 *
 * Escaping: only `email.html` is compiled with HTML escaping, so `{{name}}` there turns
 * `<script>` into `&lt;script&gt;` (and `&`, `"`, `'`, `` ` ``, `=` into entities); `{{{name}}}`
 * inserts the value as is, which the template's author then vouches for. Every other field
 * (email subject and text, SMS text, push title, body and url) is plain text and is rendered
 * without escaping, so `Tom & Jerry` stays `Tom & Jerry`. Values are inserted verbatim into
 * `push.url` too (not URL-encoded), which is why a url template must start with a literal
 * `http(s)://host`: data can change the path or query, never the scheme or host.
 *
 * Rules of a template (checked when it is stored, so a typo fails there and not at publish):
 * - strict mode: `{{name}}` with no `name` in the data fails the render
 *   (HERALD_EDGE_TEMPLATE_RENDER_FAILED); a value that may be absent goes in a condition,
 *   `{{#if name}}…{{/if}}` or `{{#unless name}}…{{/unless}}` (these never fail on a missing
 *   value; `{{^name}}` does);
 * - only the built-in helpers `if`, `unless`, `each`, `with` and `lookup`; no partials, no
 *   decorators, no `log` (a call to anything else is HERALD_EDGE_TEMPLATE_INVALID);
 * - prototype properties are never reached: `{{constructor}}` or `{{__proto__}}` render empty
 *   (Handlebars' prototype access control, denying everything that is not an own property).
 */
import Handlebars from 'handlebars';
import { HeraldError, type ErrorCode } from '../../../core/errors.ts';
import type { ChannelContent, EmailContent, PushContent, SmsContent } from '../../../core/types.ts';
import type { NotificationTemplate } from '../../../stores/types.ts';

/** Length limits of channel content, one place. Characters are UTF-16 code units (String length). */
export const CONTENT_LIMITS = {
  emailSubjectChars: 998, // characters: RFC 5322's line limit
  emailTextBytes: 256 * 1024, // bytes of UTF-8: 256 KiB
  emailHtmlBytes: 256 * 1024, // bytes of UTF-8: 256 KiB
  smsTextChars: 1_600, // characters: ten concatenated segments of 160 GSM-7 characters
  pushTitleChars: 256, // characters
  pushBodyChars: 4_096, // characters (push services cap payloads near 4 KiB)
  pushUrlChars: 2_048, // characters
} as const;

/** Compiled templates kept by renderTemplate (template_id + updated_at), least recently used out first. */
const TEMPLATE_CACHE_ENTRIES = 1_000;

type Code = Extract<ErrorCode, 'HERALD_EDGE_CONTENT_INVALID' | 'HERALD_EDGE_TEMPLATE_RENDER_FAILED'>;

const SHAPE = 'send {"email"?: {"subject", "text", "html"?}, "sms"?: {"text"}, "push"?: {"title", "body", "url"?}} with string values';

const at = (field: string, key: string): string => (field === '' ? key : `${field}.${key}`);
const shown = (v: unknown): string => (JSON.stringify(v) ?? String(v)).slice(0, 60);

/** The object at `where` with only `allowed` keys. */
function objectOf(value: unknown, where: string, allowed: readonly string[], code: Code): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HeraldError(code, `${where || 'The content'} must be an object with the fields ${allowed.join(', ')} (got ${shown(value)}); ${SHAPE}.`);
  }
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new HeraldError(code, `${where || 'The content'} has the unknown field(s) ${unknown.map((k) => JSON.stringify(k).slice(0, 40)).join(', ')}; the fields are ${allowed.join(', ')}.`);
  }
  return value as Record<string, unknown>;
}

/** A non-empty string within a limit; `bytes`: the limit counts UTF-8 bytes, else characters. */
function textOf(value: unknown, where: string, max: number, bytes: boolean, code: Code): string {
  const unit = bytes ? 'bytes (UTF-8)' : 'characters';
  if (typeof value !== 'string' || value === '') {
    throw new HeraldError(code, `${where} must be a non-empty string of at most ${max} ${unit} (got ${value === '' ? 'an empty string' : shown(value)}).`);
  }
  const size = bytes ? Buffer.byteLength(value) : value.length;
  if (size > max) throw new HeraldError(code, `${where} is ${size} ${unit}; the limit is ${max}: shorten it.`);
  return value;
}

/** {@link parseChannelContent} with the error code to throw. */
function parseContent(value: unknown, field: string, code: Code): ChannelContent {
  const c = objectOf(value, field, ['email', 'sms', 'push'], code);
  const out: ChannelContent = {};
  if (c.email !== undefined) {
    const where = at(field, 'email');
    const e = objectOf(c.email, where, ['subject', 'text', 'html'], code);
    const email: EmailContent = {
      subject: textOf(e.subject, `${where}.subject`, CONTENT_LIMITS.emailSubjectChars, false, code),
      text: textOf(e.text, `${where}.text`, CONTENT_LIMITS.emailTextBytes, true, code),
    };
    if (e.html !== undefined) email.html = textOf(e.html, `${where}.html`, CONTENT_LIMITS.emailHtmlBytes, true, code);
    out.email = email;
  }
  if (c.sms !== undefined) {
    const where = at(field, 'sms');
    const s = objectOf(c.sms, where, ['text'], code);
    const sms: SmsContent = { text: textOf(s.text, `${where}.text`, CONTENT_LIMITS.smsTextChars, false, code) };
    out.sms = sms;
  }
  if (c.push !== undefined) {
    const where = at(field, 'push');
    const p = objectOf(c.push, where, ['title', 'body', 'url'], code);
    const push: PushContent = {
      title: textOf(p.title, `${where}.title`, CONTENT_LIMITS.pushTitleChars, false, code),
      body: textOf(p.body, `${where}.body`, CONTENT_LIMITS.pushBodyChars, false, code),
    };
    if (p.url !== undefined) {
      const url = textOf(p.url, `${where}.url`, CONTENT_LIMITS.pushUrlChars, false, code);
      const parsed = URL.parse(url);
      if (parsed === null || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
        throw new HeraldError(code, `${where}.url must be an absolute https:// or http:// URL, like https://example.com/orders/42 (got ${shown(url)}).`);
      }
      push.url = url;
    }
    out.push = push;
  }
  return out;
}

/**
 * Checks channel content (a publish's `content`, or a template's): an object with only the keys
 * `email` {subject, text, html?}, `sms` {text} and `push` {title, body, url?}, each present
 * field a non-empty string within {@link CONTENT_LIMITS} (`url`: an absolute http:// or https://
 * URL). Every channel is optional: `{}` is valid content. Optional fields may be left out; null is
 * not accepted for them.
 * @param value the parsed JSON
 * @param field where it sits, for messages (e.g. `content` gives `content.email.subject`); `''`
 *   for a request body that is the content itself
 * @returns a fresh object with exactly the checked fields
 * @throws HeraldError HERALD_EDGE_CONTENT_INVALID naming the field and what to send
 */
export function parseChannelContent(value: unknown, field: string): ChannelContent {
  return parseContent(value, field, 'HERALD_EDGE_CONTENT_INVALID');
}

/** One Handlebars environment for Herald's templates: no custom helpers, partials or decorators. */
const handlebars = Handlebars.create();
handlebars.unregisterHelper('log');

/** Compile options: strict, built-in helpers only (`log` excluded), escaping as the field needs. */
const HTML_OPTIONS = { strict: true, knownHelpersOnly: true, knownHelpers: { log: false } } as const;
const TEXT_OPTIONS = { ...HTML_OPTIONS, noEscape: true } as const;

/**
 * Runtime options of every render: prototype access denied, as Handlebars' default, but said
 * explicitly so a denied lookup (`{{constructor}}`) renders empty without Handlebars writing a
 * warning to stderr.
 */
const RUNTIME_OPTIONS = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false } as const;

type TemplateFn = (data: Record<string, unknown>, options?: typeof RUNTIME_OPTIONS) => string;

/**
 * A template compiled by {@link compileTemplate}. Its functions are Handlebars template
 * functions, each for one field (`email.subject`, `sms.text`, …).
 */
export interface CompiledTemplate {
  /** The compiled fields, by path, in content order. */
  readonly fields: ReadonlyMap<string, TemplateFn>;
  /**
   * Renders every field with `data`.
   * @returns the rendered content (same channels and fields as the template), not yet re-checked
   *   against the limits (renderTemplate does that)
   * @throws HeraldError HERALD_EDGE_TEMPLATE_RENDER_FAILED naming the field (e.g. a variable
   *   missing from `data`)
   */
  render(data: Record<string, unknown>, only?: readonly string[]): ChannelContent;
}

const NOT_ALLOWED: Readonly<Record<string, string>> = {
  PartialStatement: 'partials ({{> name}})',
  PartialBlockStatement: 'partial blocks ({{#> name}})',
  Decorator: 'decorators ({{* name}})',
  DecoratorBlock: 'decorator blocks ({{#* name}})',
};

/** The first partial or decorator in a parsed template, described, or null. */
function forbiddenNode(node: unknown): string | null {
  if (typeof node !== 'object' || node === null) return null;
  const n = node as { type?: unknown; body?: unknown; program?: unknown; inverse?: unknown; loc?: { start?: { line: number; column: number } } };
  if (typeof n.type === 'string' && Object.hasOwn(NOT_ALLOWED, n.type)) {
    const where = n.loc?.start ? ` at line ${n.loc.start.line}, column ${n.loc.start.column + 1}` : '';
    return `${NOT_ALLOWED[n.type]}${where}`;
  }
  if (Array.isArray(n.body)) {
    for (const child of n.body) {
      const found = forbiddenNode(child);
      if (found) return found;
    }
  }
  return forbiddenNode(n.program) ?? forbiddenNode(n.inverse);
}

/** The Handlebars message of `err` on one line. */
function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').slice(0, 500);
}

/**
 * The host a push url template always points at: the template must spell out
 * `http(s)://host` followed by `/`, `?` or `#` (or end) before its first `{{`, with no `@`
 * (user info) or `\` in the host, so no value in the data can move the link elsewhere.
 * @throws HeraldError HERALD_EDGE_TEMPLATE_INVALID otherwise
 */
function literalHostOf(source: string): string {
  const m = /^(https?:\/\/[^/?#{}@\\\s]+)(?:[/?#]|$)/i.exec(source);
  const host = m === null ? null : URL.parse(m[1]!)?.host;
  if (m === null || host === undefined || host === null || host === '') {
    throw new HeraldError('HERALD_EDGE_TEMPLATE_INVALID', `push.url must start with a literal http(s)://host followed by "/", "?" or "#" before any {{…}} (got ${shown(source)}), so the data can change the path but never the host; e.g. https://shop.example/orders/{{order_id}}.`);
  }
  return host;
}

/** One field compiled. @throws HeraldError HERALD_EDGE_TEMPLATE_INVALID */
function compileField(source: string, path: string, html: boolean): TemplateFn {
  const options = html ? HTML_OPTIONS : TEXT_OPTIONS;
  try {
    const forbidden = forbiddenNode(handlebars.parse(source));
    if (forbidden) throw new HeraldError('HERALD_EDGE_TEMPLATE_INVALID', `${path} uses ${forbidden}; templates stand alone: only {{value}}, {{#if}}, {{#unless}}, {{#each}}, {{#with}} and {{lookup}}.`);
    // compile() is lazy; precompile() runs every stage now, so errors surface here, not at publish.
    handlebars.precompile(source, options);
    return handlebars.compile(source, options) as TemplateFn;
  } catch (err) {
    if (err instanceof HeraldError) throw err;
    throw new HeraldError('HERALD_EDGE_TEMPLATE_INVALID', `${path} is not a valid Handlebars template: ${messageOf(err)}.`, { cause: err });
  }
}

/**
 * Compiles every field of `content` (already checked with {@link parseChannelContent}) with
 * Handlebars: `email.html` with HTML escaping, every other field without (see the module comment).
 * @throws HeraldError HERALD_EDGE_TEMPLATE_INVALID naming the field and the Handlebars error (syntax
 *   error, unknown helper, partial, decorator)
 */
export function compileTemplate(content: ChannelContent): CompiledTemplate {
  const fields = new Map<string, TemplateFn>();
  const add = (path: string, source: string | undefined, html = false): void => {
    if (source !== undefined) fields.set(path, compileField(source, path, html));
  };
  add('email.subject', content.email?.subject);
  add('email.text', content.email?.text);
  add('email.html', content.email?.html, true);
  add('sms.text', content.sms?.text);
  add('push.title', content.push?.title);
  add('push.body', content.push?.body);
  add('push.url', content.push?.url);
  const urlHost = content.push?.url === undefined ? null : literalHostOf(content.push.url);
  return {
    fields,
    render(data, only) {
      const out: Record<string, Record<string, string>> = {};
      for (const [path, fn] of fields) {
        const [channel, key] = path.split('.') as [string, string];
        if (only !== undefined && !only.includes(channel)) continue;
        let text: string;
        try {
          text = fn(data, RUNTIME_OPTIONS);
        } catch (err) {
          throw new HeraldError('HERALD_EDGE_TEMPLATE_RENDER_FAILED', `${path} could not be rendered: ${messageOf(err)}; send every value it uses in data.`, { cause: err });
        }
        (out[channel] ??= {})[key] = text;
      }
      // Data may change the path or query of the push url, never where it points.
      const url = out['push']?.['url'];
      if (url !== undefined && urlHost !== null && URL.parse(url)?.host !== urlHost) {
        throw new HeraldError('HERALD_EDGE_TEMPLATE_RENDER_FAILED', `push.url rendered as ${shown(url)}, whose host is not the template's ${urlHost}; data may change the path or query of the link, not its host.`);
      }
      return out as ChannelContent;
    },
  };
}

/** renderTemplate's cache: key `template_id` NUL `updated_at`; the content's JSON guards against a same-ms rewrite. */
const cache = new Map<string, { json: string; compiled: CompiledTemplate }>();

/** The compiled template, from the cache or compiled now (and cached). */
function compiledOf(template: NotificationTemplate): CompiledTemplate {
  const key = `${template.template_id}\u0000${template.updated_at}`;
  const json = JSON.stringify(template.content);
  const hit = cache.get(key);
  if (hit !== undefined && hit.json === json) {
    cache.delete(key); // most recently used goes last
    cache.set(key, hit);
    return hit.compiled;
  }
  const compiled = compileTemplate(template.content);
  cache.delete(key);
  cache.set(key, { json, compiled });
  if (cache.size > TEMPLATE_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return compiled;
}

/**
 * Renders a stored template with a publish's `data` (only the channels in `only`, when given:
 * a publish asking for SMS alone does not fail on a variable only its push url uses). Compiled templates are cached per
 * `template_id` + `updated_at` (at most 1,000, least recently used evicted), so a template is
 * compiled once per process and version.
 * @returns the rendered content: the template's channels and fields, each within
 *   {@link CONTENT_LIMITS}
 * @throws HeraldError HERALD_EDGE_TEMPLATE_RENDER_FAILED when a field cannot be rendered (e.g. a
 *   variable missing from `data`), or its result is empty, too long, or (push.url) not an http(s)
 *   URL; HERALD_EDGE_TEMPLATE_INVALID when the stored template no longer compiles
 */
export function renderTemplate(template: NotificationTemplate, data: Record<string, unknown>, only?: readonly string[]): ChannelContent {
  try {
    return parseContent(compiledOf(template).render(data, only), '', 'HERALD_EDGE_TEMPLATE_RENDER_FAILED');
  } catch (err) {
    if (!(err instanceof HeraldError)) throw err;
    const hint = err.code === 'HERALD_EDGE_TEMPLATE_INVALID' ? ' PUT the template again.' : '';
    throw new HeraldError(err.code, `Template ${JSON.stringify(template.template_id)}: ${err.message}${hint}`, { cause: err });
  }
}
