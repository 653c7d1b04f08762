/**
 * Email address validation for the email channel: what the SMTP provider accepts as `to`/`from`,
 * and what `PUT /users/{id}/channels` will accept as a user's email address.
 *
 * Deliberately a sane subset of RFC 5321/5322, not the whole grammar: a bare address
 * `local@domain`, never a display name (`Alice <a@example.com>`), comments, quoted local parts or
 * address literals (`a@[192.0.2.1]`). Anything outside the subset is refused rather than guessed
 * at, because the address ends up in an SMTP envelope (RCPT TO) and in a header.
 */

/** Longest address, characters: RFC 5321 §4.5.3.1.3 allows a 256-character path including `<` and `>`. */
export const MAX_EMAIL_LENGTH = 254;
/** Longest local part (before `@`), characters (RFC 5321 §4.5.3.1.1). */
export const MAX_LOCAL_PART_LENGTH = 64;
/** Longest domain, characters (RFC 1035 name limit as written without the final dot). */
export const MAX_DOMAIN_LENGTH = 253;

/** Dot-atom local part (RFC 5322 §3.2.3 atext, dots only between atoms). */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** One DNS label: letters, digits, hyphens, not starting or ending with a hyphen, 1–63 characters. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Whether `address` is a plain, deliverable-looking email address: `local@domain` where
 *
 * - the whole is at most {@link MAX_EMAIL_LENGTH} characters, ASCII only (internationalised
 *   domains must be given in their `xn--` form; SMTPUTF8 local parts are not accepted);
 * - the local part is a dot-atom of 1–{@link MAX_LOCAL_PART_LENGTH} characters (letters, digits,
 *   ``!#$%&'*+/=?^_`{|}~-``, single dots between them);
 * - the domain is at most {@link MAX_DOMAIN_LENGTH} characters of at least two DNS labels
 *   (no `user@localhost`), and the last label is not all digits (no `a@192.0.2.1`).
 *
 * No whitespace anywhere, so no display names or trailing newlines. Does not throw: any
 * non-string is simply invalid. Case is kept (the local part may be case-sensitive).
 */
export function isValidEmail(address: unknown): address is string {
  if (typeof address !== 'string' || address.length === 0 || address.length > MAX_EMAIL_LENGTH) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > MAX_LOCAL_PART_LENGTH || !LOCAL_PART.test(local)) return false;
  if (domain.length > MAX_DOMAIN_LENGTH) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) if (!LABEL.test(label)) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!);
}
