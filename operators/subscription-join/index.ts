/** The subscription-join operator (public API of this folder). */
export { SubscriptionJoinOperator } from './subscription-join.ts';
export { parseSubscriptionJoinOptions, SUBSCRIPTION_JOIN_DEFAULTS, subscriptionJoinOptionsSchema, type SubscriptionJoinOptions } from './options.ts';
