package dev.meshwork.health.internal.sync;

import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the sync engine.
 *
 * @param pushWindow          local changes within this window go out in one push per neighbour
 * @param antiEntropyInterval how often digests are exchanged with every neighbour
 * @param rejoinTimeout       how long a starting node waits to learn its own log's length
 * @param retention           events older than this are compacted into summaries
 * @param maxEventsPerOrigin  events kept per origin beyond which the oldest are compacted anyway
 * @param maxEventsPerMessage the most events one message carries (bounds the frame size)
 * @param compactionInterval  how often compaction runs
 */
public record SyncConfig(Duration pushWindow, Duration antiEntropyInterval, Duration rejoinTimeout, Duration retention,
        int maxEventsPerOrigin, int maxEventsPerMessage, Duration compactionInterval) {

    public static final SyncConfig DEFAULTS = new SyncConfig(Duration.ofMillis(100), Duration.ofSeconds(30),
            Duration.ofSeconds(3), Duration.ofDays(7), 20_000, 2_000, Duration.ofMinutes(1));

    public SyncConfig {
        Objects.requireNonNull(pushWindow, "pushWindow");
        Objects.requireNonNull(antiEntropyInterval, "antiEntropyInterval");
        Objects.requireNonNull(rejoinTimeout, "rejoinTimeout");
        Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(compactionInterval, "compactionInterval");
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
        return new SyncConfig(d, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval);
    }

    public SyncConfig withAntiEntropyInterval(Duration d) {
        return new SyncConfig(pushWindow, d, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval);
    }

    public SyncConfig withRejoinTimeout(Duration d) {
        return new SyncConfig(pushWindow, antiEntropyInterval, d, retention, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval);
    }

    public SyncConfig withRetention(Duration d) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, d, maxEventsPerOrigin, maxEventsPerMessage, compactionInterval);
    }

    public SyncConfig withMaxEventsPerOrigin(int n) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, retention, n, maxEventsPerMessage, compactionInterval);
    }

    public SyncConfig withMaxEventsPerMessage(int n) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, n, compactionInterval);
    }

    public SyncConfig withCompactionInterval(Duration d) {
        return new SyncConfig(pushWindow, antiEntropyInterval, rejoinTimeout, retention, maxEventsPerOrigin, maxEventsPerMessage, d);
    }
}
