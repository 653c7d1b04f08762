/** The routing sink (public API of this folder). */
export { RoutingSink } from './routing-sink.ts';
