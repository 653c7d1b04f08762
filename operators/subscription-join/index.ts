/** The subscription-join operator (public API of this folder). */
export { SubscriptionJoinOperator } from './subscription-join.ts';
export { parseSubscriptionJoinOptions, subscriptionJoinOptions, type SubscriptionJoinOptions } from './options.ts';
