export { CHANNEL_ROUTING_SINK, ChannelRoutingSink } from './channel-routing-sink.ts';
