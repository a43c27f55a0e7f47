package dev.meshwork.api.transport;

/**
 * Counters of one {@link Connection} at the moment they were read. Immutable.
 *
 * @param framesIn  messages received
 * @param framesOut messages written
 * @param bytesIn   wire bytes received
 * @param bytesOut  wire bytes written
 */
public record ConnectionStats(long framesIn, long framesOut, long bytesIn, long bytesOut) {
}
