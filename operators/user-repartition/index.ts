/** The user-repartition operator (public API of this folder). */
export { UserRepartitionOperator } from './user-repartition.ts';
export { encodeNotification, partitionCountOf, repartitionLogOf, routeRecord } from './route.ts';
export { userKey, USER_KEY_CACHE_MAX, type UserKey } from './user-key-cache.ts';
export { parseUserRepartitionOptions, userRepartitionOptions, type UserRepartitionOptions } from './options.ts';
