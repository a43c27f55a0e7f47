package dev.meshwork.api.router;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of one channel of a link. Immutable.
 *
 * @param uri           the peer URL this channel dials (or the local listener, if inbound)
 * @param state         the channel's state
 * @param active        whether traffic to the peer uses this channel now
 * @param inbound       whether the peer dialed us on this channel
 * @param rtt           smoothed round-trip time, once measured
 * @param bytesIn       wire bytes received
 * @param bytesOut      wire bytes sent
 * @param failures      consecutive failed attempts
 * @param lastError     the last failure, if any
 * @param nextAttemptAt when the next dial is due, in BACKOFF or FAILED
 */
public record ChannelInfo(URI uri, ChannelState state, boolean active, boolean inbound, Optional<Duration> rtt,
        long bytesIn, long bytesOut, int failures, Optional<String> lastError, Optional<Instant> nextAttemptAt) {

    public ChannelInfo {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(rtt, "rtt");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
    }
}
