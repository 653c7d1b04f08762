/** The Kafka log transport (librdkafka). Loaded only by the kafka profile. */
export { createKafkaTransport, KafkaLogTransport } from './transport.ts';
export type { KafkaTransportOptions } from './options.ts';
