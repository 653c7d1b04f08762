/** Notification id checks (core/ids.ts). */
import { describe, expect, it } from 'vitest';
import { isNotificationId, newNotificationId } from '../../../core/ids.ts';

describe('isNotificationId', () => {
  it('accepts UUID strings in either case, Herald\'s own ids among them', () => {
    expect(isNotificationId(newNotificationId().id)).toBe(true);
    expect(isNotificationId('0190F3A0-6C1E-7B3A-9D2F-4E5A6B7C8D9E')).toBe(true);
    expect(isNotificationId('3b241101-e2bb-4255-8caf-4136c566a962')).toBe(true); // v4: a lookup answers nothing, not 400
  });

  it('refuses everything else', () => {
    for (const v of ['', 'n1', '0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9', '0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9ee', '0190f3a06c1e7b3a9d2f4e5a6b7c8d9e', '0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9g', ' 0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9e', '0190f3a0-6c1e-7b3a-9d2f-4e5a6b7c8d9e\n', 42, null, undefined, {}]) {
      expect(isNotificationId(v), JSON.stringify(v)).toBe(false);
    }
  });
});
