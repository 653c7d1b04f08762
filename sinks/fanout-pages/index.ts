/** The fanout-pages sink (public API of this folder). */
export { FANOUT_PAGES_SINK, FanoutPagesSink } from './fanout-pages-sink.ts';
