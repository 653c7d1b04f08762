/**
 * Channel content checks and Handlebars templates (sinks/channels/templates/render.ts): the shape
 * and limits of content, escaping only in email.html, strict variables, what a template may not
 * use, prototype access, and the compiled-template cache.
 */
import { describe, expect, it } from 'vitest';
import type { ChannelContent } from '../../../core/types.ts';
import { CONTENT_LIMITS, compileTemplate, parseChannelContent, renderTemplate } from '../../../sinks/channels/templates/render.ts';
import type { NotificationTemplate } from '../../../stores/types.ts';

let seq = 0;
/** A template with a fresh id (the render cache is per process). */
function tpl(content: ChannelContent, updatedAt = 1): NotificationTemplate {
  return { template_id: `t-${++seq}`, content, updated_at: updatedAt };
}

const full: ChannelContent = {
  email: { subject: 'Hi {{name}}', text: 'Order {{order.id}} shipped', html: '<p>Hi {{name}}</p>' },
  sms: { text: '{{name}}: order {{order.id}}' },
  push: { title: 'Hi {{name}}', body: 'Order {{order.id}}', url: 'https://example.com/orders/{{order.id}}' },
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('parseChannelContent', () => {
  it('accepts every channel, any subset, and {} ; returns a fresh object with exactly the fields', () => {
    expect(parseChannelContent(full, 'content')).toEqual(full);
    expect(parseChannelContent({ sms: { text: 'x' } }, 'content')).toEqual({ sms: { text: 'x' } });
    expect(parseChannelContent({}, 'content')).toEqual({});
    const input = { email: { subject: 's', text: 't' } };
    const out = parseChannelContent(input, 'content');
    expect(out).not.toBe(input);
    expect(out.email).not.toBe(input.email);
    expect(Object.keys(out.email!)).toEqual(['subject', 'text']);
  });

  it('refuses wrong shapes with HERALD_EDGE_CONTENT_INVALID naming the field', () => {
    const cases: [unknown, string][] = [
      [null, 'content must be an object'],
      [[], 'content must be an object'],
      ['hi', 'content must be an object'],
      [{ fax: {} }, 'content has the unknown field(s) "fax"'],
      [{ email: 'hi' }, 'content.email must be an object'],
      [{ email: { subject: 's' } }, 'content.email.text must be a non-empty string'],
      [{ email: { subject: '', text: 't' } }, 'content.email.subject must be a non-empty string'],
      [{ email: { subject: 's', text: 't', html: null } }, 'content.email.html must be a non-empty string'],
      [{ email: { subject: 's', text: 't', cc: 'x' } }, 'content.email has the unknown field(s) "cc"'],
      [{ sms: { text: 42 } }, 'content.sms.text must be a non-empty string'],
      [{ push: { title: 't' } }, 'content.push.body must be a non-empty string'],
      [{ push: { title: 't', body: 'b', url: 'javascript:alert(1)' } }, 'content.push.url must be an absolute https:// or http:// URL'],
      [{ push: { title: 't', body: 'b', url: '/relative' } }, 'content.push.url must be an absolute'],
      [{ push: { title: 't', body: 'b', url: 'ftp://example.com/x' } }, 'content.push.url must be an absolute'],
      [JSON.parse('{"__proto__": {"text": "x"}}'), 'content has the unknown field(s) "__proto__"'],
    ];
    for (const [value, message] of cases) {
      const err = errorOf(() => parseChannelContent(value, 'content'));
      expect(err.code, JSON.stringify(value)).toBe('HERALD_EDGE_CONTENT_INVALID');
      expect(err.message, JSON.stringify(value)).toContain(message);
    }
    // a body that is the content itself: paths without a prefix
    expect(errorOf(() => parseChannelContent({ sms: {} }, '')).message).toContain('sms.text must be');
    expect(errorOf(() => parseChannelContent(7, '')).message).toContain('The content must be an object');
  });

  it('enforces the length limits, exactly at the limit passing', () => {
    const limits: [ChannelContent, ChannelContent][] = [
      [{ email: { subject: 'x'.repeat(CONTENT_LIMITS.emailSubjectChars), text: 't' } }, { email: { subject: 'x'.repeat(CONTENT_LIMITS.emailSubjectChars + 1), text: 't' } }],
      [{ email: { subject: 's', text: 'x'.repeat(CONTENT_LIMITS.emailTextBytes) } }, { email: { subject: 's', text: 'x'.repeat(CONTENT_LIMITS.emailTextBytes + 1) } }],
      // bytes, not characters: 2-byte characters reach the limit at half the length
      [{ email: { subject: 's', text: 't', html: 'é'.repeat(CONTENT_LIMITS.emailHtmlBytes / 2) } }, { email: { subject: 's', text: 't', html: 'é'.repeat(CONTENT_LIMITS.emailHtmlBytes / 2 + 1) } }],
      [{ sms: { text: 'x'.repeat(1_600) } }, { sms: { text: 'x'.repeat(1_601) } }],
      [{ push: { title: 'x'.repeat(256), body: 'b' } }, { push: { title: 'x'.repeat(257), body: 'b' } }],
      [{ push: { title: 't', body: 'x'.repeat(4_096) } }, { push: { title: 't', body: 'x'.repeat(4_097) } }],
      [{ push: { title: 't', body: 'b', url: `https://e.com/${'x'.repeat(2_048 - 14)}` } }, { push: { title: 't', body: 'b', url: `https://e.com/${'x'.repeat(2_048 - 13)}` } }],
    ];
    for (const [ok, tooLong] of limits) {
      expect(parseChannelContent(ok, 'content')).toEqual(ok);
      const err = errorOf(() => parseChannelContent(tooLong, 'content'));
      expect(err.code).toBe('HERALD_EDGE_CONTENT_INVALID');
      expect(err.message).toMatch(/the limit is \d+/);
    }
  });
});

describe('compileTemplate', () => {
  it('compiles every field', () => {
    expect([...compileTemplate(full).fields.keys()]).toEqual(['email.subject', 'email.text', 'email.html', 'sms.text', 'push.title', 'push.body', 'push.url']);
  });

  it('a syntax error is HERALD_EDGE_TEMPLATE_INVALID naming the field and the Handlebars error', () => {
    const cases: [ChannelContent, string][] = [
      [{ sms: { text: 'Hi {{name' } }, 'sms.text is not a valid Handlebars template: Parse error on line 1'],
      [{ email: { subject: 's', text: 't', html: '{{#if x}}open' } }, 'email.html is not a valid Handlebars template'],
      [{ push: { title: '{{#if a}}x{{/unless}}', body: 'b' } }, "push.title is not a valid Handlebars template: if doesn't match unless"],
      [{ sms: { text: '{{foo/this}}' } }, 'sms.text is not a valid Handlebars template: Invalid path'],
      // unknown helpers fail when stored, not at publish
      [{ sms: { text: '{{uppercase name}}' } }, 'unknown helper uppercase'],
      [{ sms: { text: '{{log "x"}}' } }, 'unknown helper log'],
      [{ sms: { text: 'x {{> footer}}' } }, 'sms.text uses partials ({{> name}}) at line 1, column 3'],
      [{ sms: { text: '{{#> layout}}x{{/layout}}' } }, 'sms.text uses partial blocks'],
      [{ sms: { text: '{{#if a}}{{* deco}}{{/if}}' } }, 'sms.text uses decorators'],
    ];
    for (const [content, message] of cases) {
      const err = errorOf(() => compileTemplate(content));
      expect(err.code, JSON.stringify(content)).toBe('HERALD_EDGE_TEMPLATE_INVALID');
      expect(err.message, JSON.stringify(content)).toContain(message);
    }
  });

  it('the built-in block helpers compile; a block over data works', () => {
    const c = compileTemplate({ sms: { text: '{{#if a}}A{{else}}no A{{/if}} {{#unless b}}no B{{/unless}} {{#each list}}{{@index}}={{this}};{{/each}} {{#with o}}{{k}}{{/with}} {{lookup o "k"}} {{#list}}[{{.}}]{{/list}}' } });
    expect(c.render({ list: ['x', 'y'], o: { k: 'v' } })).toEqual({ sms: { text: 'no A no B 0=x;1=y; v v [x][y]' } });
  });
});

describe('renderTemplate', () => {
  it('escapes HTML only in email.html; plain-text fields are verbatim', () => {
    const name = '<script>alert("x")</script> & Tom\'s';
    const out = renderTemplate(tpl(full), { name, order: { id: 'A&B' } });
    expect(out.email!.html).toBe('<p>Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Tom&#x27;s</p>');
    expect(out.email!.subject).toBe(`Hi ${name}`);
    expect(out.email!.text).toBe('Order A&B shipped');
    expect(out.sms!.text).toBe(`${name}: order A&B`);
    expect(out.push).toEqual({ title: `Hi ${name}`, body: 'Order A&B', url: 'https://example.com/orders/A&B' });
  });

  it('triple-stash in email.html inserts raw HTML (the author\'s choice)', () => {
    expect(renderTemplate(tpl({ email: { subject: 's', text: 't', html: '{{{block}}}' } }), { block: '<b>x</b>' }).email!.html).toBe('<b>x</b>');
  });

  it('a missing variable is HERALD_EDGE_TEMPLATE_RENDER_FAILED naming the template and field; conditions tolerate absence', () => {
    const t = tpl({ email: { subject: 'Hi {{name}}', text: '{{#if coupon}}Code {{coupon}}{{/if}}{{#unless vip}}.{{/unless}}' } });
    const err = errorOf(() => renderTemplate(t, {}));
    expect(err.code).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    expect(err.message).toContain(`Template "${t.template_id}": email.subject could not be rendered`);
    expect(err.message).toContain('"name" not defined');
    expect(codeOf(() => renderTemplate(tpl({ sms: { text: '{{order.id}}' } }), { order: {} }))).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    expect(codeOf(() => renderTemplate(tpl({ sms: { text: '{{order.id}}' } }), {}))).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    expect(renderTemplate(t, { name: 'Ada' })).toEqual({ email: { subject: 'Hi Ada', text: '.' } });
    expect(renderTemplate(t, { name: 'Ada', coupon: 'X1', vip: true })).toEqual({ email: { subject: 'Hi Ada', text: 'Code X1' } });
  });

  it('a rendered field over its limit, empty, or a url that is no longer http(s) is HERALD_EDGE_TEMPLATE_RENDER_FAILED', () => {
    const sms = tpl({ sms: { text: 'Hi {{name}}' } });
    expect(renderTemplate(sms, { name: 'x'.repeat(1_597) }).sms!.text).toHaveLength(1_600);
    const long = errorOf(() => renderTemplate(sms, { name: 'x'.repeat(1_598) }));
    expect(long.code).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    expect(long.message).toContain('sms.text is 1601 characters; the limit is 1600');
    expect(codeOf(() => renderTemplate(tpl({ push: { title: '{{t}}', body: 'b' } }), { t: '' }))).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    expect(codeOf(() => renderTemplate(tpl({ email: { subject: '{{s}}', text: 't' } }), { s: 'x'.repeat(999) }))).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    // a value with spaces keeps the url parseable (the URL parser tolerates them in the path)
    expect(renderTemplate(tpl({ push: { title: 't', body: 'b', url: 'https://e.com/{{p}}' } }), { p: 'a b' }).push!.url).toBe('https://e.com/a b');
  });

  it('does not reach prototypes: constructor / __proto__ render empty, own __proto__ keys of JSON data stay data', () => {
    const t = tpl({ sms: { text: '[{{constructor}}][{{__proto__}}][{{lookup this "constructor"}}][{{#with o}}{{constructor}}{{/with}}][{{o.__proto__.polluted}}]' } });
    const data = JSON.parse('{"o": {"__proto__": {"polluted": "own"}}}') as Record<string, unknown>;
    expect(renderTemplate(t, data).sms!.text).toBe('[][][][][own]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // strict lookups of a prototype's members fail like any missing value
    // going through a prototype member reads nothing, so strict mode fails the path like any missing value
    for (const path of ['constructor.name', 'constructor.constructor', '__proto__.toString', 'o.hasOwnProperty.call']) {
      expect(codeOf(() => renderTemplate(tpl({ sms: { text: `{{${path}}}` } }), { o: {} })), path).toBe('HERALD_EDGE_TEMPLATE_RENDER_FAILED');
    }
    expect(renderTemplate(tpl({ sms: { text: '[{{toString}}][{{valueOf}}]' } }), {}).sms!.text).toBe('[][]');
  });

  it('caches by template_id + updated_at: same output; a new version (or content) recompiles', () => {
    const t = tpl({ sms: { text: 'v1 {{x}}' } }, 100);
    const first = renderTemplate(t, { x: 1 });
    expect(renderTemplate({ ...t }, { x: 1 })).toEqual(first);
    expect(renderTemplate({ ...t }, { x: 2 })).toEqual({ sms: { text: 'v1 2' } });
    expect(renderTemplate({ ...t, content: { sms: { text: 'v2 {{x}}' } }, updated_at: 101 }, { x: 1 })).toEqual({ sms: { text: 'v2 1' } });
    // same updated_at, other content (a delete and re-create in one ms): the content wins
    expect(renderTemplate({ ...t, content: { sms: { text: 'v3 {{x}}' } } }, { x: 1 })).toEqual({ sms: { text: 'v3 1' } });
    // many templates: the cache stays bounded and still renders correctly
    for (let i = 0; i < 1_100; i++) expect(renderTemplate(tpl({ sms: { text: `n${i} {{x}}` } }), { x: i }).sms!.text).toBe(`n${i} ${i}`);
    expect(renderTemplate({ ...t, updated_at: 100 }, { x: 9 })).toEqual({ sms: { text: 'v1 9' } });
  });

  it('a stored template that no longer compiles is HERALD_EDGE_TEMPLATE_INVALID naming the template', () => {
    const err = errorOf(() => renderTemplate({ template_id: 'old', content: { sms: { text: '{{#if}}' } }, updated_at: 1 }, {}));
    expect(err.code).toBe('HERALD_EDGE_TEMPLATE_INVALID');
    expect(err.message).toContain('Template "old": sms.text is not a valid Handlebars template');
  });
});

describe('push url templates', () => {
  const tplOf = (url: string): NotificationTemplate => ({ template_id: `u-${url}`, updated_at: 1, content: { push: { title: 'T', body: 'B', url } } });
  const codeOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      return (err as { code: string }).code;
    }
    return 'ok';
  };

  it('must spell out their host before any {{…}}: data cannot move the link to another host', () => {
    for (const url of ['https://shop.example.com{{p}}', 'https://{{h}}.example.com/', 'https://user@shop.example.com/{{p}}', '{{base}}/orders']) {
      expect(codeOf(() => compileTemplate(tplOf(url).content)), url).toBe('HERALD_EDGE_TEMPLATE_INVALID');
    }
    expect(renderTemplate(tplOf('https://shop.example.com/{{p}}'), { p: '@evil.com/phish' }).push!.url).toBe('https://shop.example.com/@evil.com/phish');
    expect(renderTemplate(tplOf('https://shop.example.com?next={{p}}'), { p: '1#@evil.com' }).push!.url).toBe('https://shop.example.com?next=1#@evil.com');
    expect(renderTemplate(tplOf('https://shop.example.com'), {}).push!.url).toBe('https://shop.example.com');
  });
});
