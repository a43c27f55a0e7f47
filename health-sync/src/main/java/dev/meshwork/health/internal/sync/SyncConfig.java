package dev.meshwork.health.internal.sync;

import dev.meshwork.api.BackoffPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the sync engine.
 *
 * @param pushWindow          local changes within this window go out in one push per neighbour
 * @param antiEntropyInterval how often digests are exchanged with every neighbour
 * @param rejoinTimeout       how long a node that lost its state waits to learn its own log's
 *                            length before numbering new events (see {@link OwnLogState})
 * @param retention           events older than this are compacted into summaries
 * @param maxEventsPerOrigin  events kept per origin beyond which the oldest are compacted anyway
 * @param maxEventsPerMessage the most events one message carries (bounds the frame size)
 * @param compactionInterval  how often compaction runs
 * @param catchUpBackoff      when a neighbour has not answered the catch-up digest sent as its link
 *                            came up (lost, or its health handler was not registered yet), the
 *                            digest is repeated after these delays until it answers
 */
public record SyncConfig(Duration pushWindow, Duration antiEntropyInterval, Duration rejoinTimeout, Duration retention,
        int maxEventsPerOrigin, int maxEventsPerMessage, Duration compactionInterval, BackoffPolicy catchUpBackoff) {

    /** 200 ms doubling to 5 s; each delay drawn from the upper half of its step (jitter 0.5). */
    public static final BackoffPolicy DEFAULT_CATCH_UP_BACKOFF = new BackoffPolicy(Duration.ofMillis(200),
            Duration.ofSeconds(5), 2.0, 0.5);

    public static final SyncConfig DEFAULTS = new SyncConfig(Duration.ofMillis(100), Duration.ofSeconds(30),
            Duration.ofSeconds(3), Duration.ofDays(7), 20_000, 2_000, Duration.ofMinutes(1), DEFAULT_CATCH_UP_BACKOFF);

    /** With the default catch-up backoff. */
    public SyncConfig(Duration pushWindow, Duration antiEntropyInterval, Duration rejoinTimeout, Duration retention,
            int maxEventsPerOrigin, int maxEventsPerMessage, Duration compactionInterval) {
        this(pushWindow, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage,
                compactionInterval, DEFAULT_CATCH_UP_BACKOFF);
    }

    public SyncConfig {
        Objects.requireNonNull(pushWindow, "pushWindow");
        Objects.requireNonNull(antiEntropyInterval, "antiEntropyInterval");
        Objects.requireNonNull(rejoinTimeout, "rejoinTimeout");
        Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(compactionInterval, "compactionInterval");
        Objects.requireNonNull(catchUpBackoff, "catchUpBackoff");
        if (pushWindow.isNegative() || antiEntropyInterval.isNegative() || antiEntropyInterval.isZero()
                || rejoinTimeout.isNegative() || retention.isNegative() || retention.isZero()
                || compactionInterval.isNegative() || compactionInterval.isZero()) {
            throw new IllegalArgumentException("durations must be positive (push window and rejoin timeout may be 0)");
        }
        if (maxEventsPerOrigin < 1 || maxEventsPerMessage < 1) {
            throw new IllegalArgumentException("event limits must be >= 1");
        }
    }

    public SyncConfig withPushWindow(Duration d) {
        return new SyncConfig(d, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval, catchUpBackoff);
    }

    public SyncConfig withAntiEntropyInterval(Duration d) {
        return new SyncConfig(pushWindow, d, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval, catchUpBackoff);
    }

    public SyncConfig withRejoinTimeout(Duration d) {
        return new SyncConfig(pushWindow, antiEntropyInterval, d, retention, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval, catchUpBackoff);
    }

    public SyncConfig withRetention(Duration d) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, d, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval, catchUpBackoff);
    }

    public SyncConfig withMaxEventsPerOrigin(int n) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, retention, n, maxEventsPerMessage, compactionInterval, catchUpBackoff);
    }

    public SyncConfig withMaxEventsPerMessage(int n) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, n, compactionInterval, catchUpBackoff);
    }

    public SyncConfig withCompactionInterval(Duration d) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage, d, catchUpBackoff);
    }

    public SyncConfig withCatchUpBackoff(BackoffPolicy b) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage,
                compactionInterval, b);
    }
}
