/**
 * Builds each channel's provider and rate limiter from the settings (core/config.ts): email when
 * HERALD_SMTP_URL is set, SMS when HERALD_SMS_URL (and its token) are, push when both VAPID keys
 * are. A channel without settings is off: its log keeps the records until a worker runs.
 */
import type { HeraldConfig } from '../../core/config.ts';
import { HeraldError } from '../../core/errors.ts';
import type { ChannelName } from '../../core/types.ts';
import { createSmtpProvider } from './email/smtp-provider.ts';
import { createWebPushProvider } from './push/web-push-provider.ts';
import { ProviderRateLimiter, type LimiterStore } from './rate-limiter.ts';
import { createHttpSmsProvider } from './sms/http-sms-provider.ts';
import type { ChannelProvider, EmailMessage, PushMessage, SmsMessage } from './types.ts';

/** Whether the settings configure `channel`'s provider. */
export function channelConfigured(config: HeraldConfig, channel: ChannelName): boolean {
  switch (channel) {
    case 'email':
      return config.smtpUrl !== '';
    case 'sms':
      return config.smsUrl !== '';
    case 'push':
      return config.vapidPublicKey !== '' && config.vapidPrivateKey !== '';
  }
}

/** What each channel needs to be configured, for error messages. */
export const CHANNEL_SETTINGS: Record<ChannelName, string> = {
  email: 'HERALD_SMTP_URL (and HERALD_EMAIL_FROM)',
  sms: 'HERALD_SMS_URL and HERALD_SMS_TOKEN',
  push: 'HERALD_VAPID_PUBLIC_KEY and HERALD_VAPID_PRIVATE_KEY',
};

/**
 * The provider of `channel`.
 * @throws HeraldError HERALD_CONFIG_INVALID when the channel is not configured (naming the settings)
 */
export function createChannelProvider(config: HeraldConfig, channel: ChannelName): ChannelProvider<EmailMessage | SmsMessage | PushMessage> {
  if (!channelConfigured(config, channel)) {
    throw new HeraldError('HERALD_CONFIG_INVALID', `The ${channel} channel is not configured: set ${CHANNEL_SETTINGS[channel]}.`);
  }
  switch (channel) {
    case 'email':
      return createSmtpProvider({ url: config.smtpUrl, from: config.emailFrom, pool: { maxConnections: 5 } }) as ChannelProvider<EmailMessage | SmsMessage | PushMessage>;
    case 'sms':
      if (config.smsToken === '') throw new HeraldError('HERALD_CONFIG_INVALID', 'HERALD_SMS_URL is set but HERALD_SMS_TOKEN is not: set the SMS provider\'s API token.');
      return createHttpSmsProvider({ baseUrl: config.smsUrl, apiToken: config.smsToken, from: config.smsFrom }) as ChannelProvider<EmailMessage | SmsMessage | PushMessage>;
    case 'push':
      return createWebPushProvider({ subject: config.vapidSubject, publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey, allowPrivateEndpoints: config.pushAllowPrivateEndpoints }) as ChannelProvider<EmailMessage | SmsMessage | PushMessage>;
  }
}

/** The rate limiter of `channel`'s provider (per-second budget; SMS also per recipient per hour). */
export function createChannelLimiter(config: HeraldConfig, channel: ChannelName, provider: string, store: LimiterStore): ProviderRateLimiter {
  switch (channel) {
    case 'email':
      return new ProviderRateLimiter(provider, { perSecond: config.emailRatePerSec }, store);
    case 'sms':
      return new ProviderRateLimiter(provider, { perSecond: config.smsRatePerSec, perRecipientPerHour: config.smsPerRecipientPerHour }, store);
    case 'push':
      return new ProviderRateLimiter(provider, { perSecond: config.pushRatePerSec }, store);
  }
}
