package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.BackoffPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The outbox's settings, already validated: what the component reads from
 * {@code dev.meshwork.outbox.sqlite} and what tests build directly. Immutable.
 *
 * @param file              the database file
 * @param synchronous       {@code FULL} (durable against power loss) or {@code NORMAL} (durable against a process crash)
 * @param maxPayloadBytes   largest payload accepted by enqueue
 * @param maxAttempts       attempts after which a row is dead
 * @param backoff           delay between attempts (full jitter)
 * @param windowPerTarget   rows in flight at once per target
 * @param ackTimeout        how long one send may wait for its acknowledgement
 * @param pollInterval      fallback poll of the drain (it is normally woken by events)
 * @param doneRetention     done rows older than this are purged automatically
 * @param inboxRetention    how long the inbox remembers a message id (the dedup window)
 * @param maxDatabaseBytes  size limit of the database, enforced by SQLite; 0 for none
 * @param maxBatch          most operations committed in one transaction
 * @param redeliverInDoubt  whether inbox records of a crashed receiver whose handler may not have finished are forgotten at start (at-least-once, the default) or kept (never a duplicate, but such a message may be lost)
 */
public record OutboxConfig(Path file, String synchronous, int maxPayloadBytes, int maxAttempts, BackoffPolicy backoff,
        int windowPerTarget, Duration ackTimeout, Duration pollInterval, Duration doneRetention, Duration inboxRetention,
        long maxDatabaseBytes, int maxBatch, boolean redeliverInDoubt) {

    public OutboxConfig {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(synchronous, "synchronous");
        Objects.requireNonNull(backoff, "backoff");
        requirePositive("maxPayloadBytes", maxPayloadBytes);
        requirePositive("maxAttempts", maxAttempts);
        requirePositive("windowPerTarget", windowPerTarget);
        requirePositive("maxBatch", maxBatch);
        if (!synchronous.equals("FULL") && !synchronous.equals("NORMAL")) {
            throw new IllegalArgumentException("synchronous must be FULL or NORMAL, not '" + synchronous + "'");
        }
        for (Duration d : new Duration[] {ackTimeout, pollInterval, doneRetention, inboxRetention}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("durations must be positive: " + d);
            }
        }
        if (maxDatabaseBytes < 0) {
            throw new IllegalArgumentException("maxDatabaseBytes must be >= 0");
        }
    }

    /** The documented defaults, for the database {@code file}. */
    public static OutboxConfig defaults(Path file) {
        return new OutboxConfig(file, "FULL", 512 * 1024, 25, BackoffPolicy.DEFAULT, 256, Duration.ofSeconds(10),
                Duration.ofSeconds(1), Duration.ofHours(24), Duration.ofDays(7), 0, 4096, true);
    }

    private static void requirePositive(String name, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive: " + v);
        }
    }

    public OutboxConfig withSynchronous(String s) {
        return new OutboxConfig(file, s, maxPayloadBytes, maxAttempts, backoff, windowPerTarget, ackTimeout, pollInterval,
                doneRetention, inboxRetention, maxDatabaseBytes, maxBatch, redeliverInDoubt);
    }

    public OutboxConfig withMaxPayloadBytes(int n) {
        return new OutboxConfig(file, synchronous, n, maxAttempts, backoff, windowPerTarget, ackTimeout, pollInterval,
                doneRetention, inboxRetention, maxDatabaseBytes, maxBatch, redeliverInDoubt);
    }

    public OutboxConfig withMaxAttempts(int n) {
        return new OutboxConfig(file, synchronous, maxPayloadBytes, n, backoff, windowPerTarget, ackTimeout, pollInterval,
                doneRetention, inboxRetention, maxDatabaseBytes, maxBatch, redeliverInDoubt);
    }

    public OutboxConfig withWindowPerTarget(int n) {
        return new OutboxConfig(file, synchronous, maxPayloadBytes, maxAttempts, backoff, n, ackTimeout, pollInterval,
                doneRetention, inboxRetention, maxDatabaseBytes, maxBatch, redeliverInDoubt);
    }

    public OutboxConfig withAckTimeout(Duration d) {
        return new OutboxConfig(file, synchronous, maxPayloadBytes, maxAttempts, backoff, windowPerTarget, d, pollInterval,
                doneRetention, inboxRetention, maxDatabaseBytes, maxBatch, redeliverInDoubt);
    }

    public OutboxConfig withMaxDatabaseBytes(long n) {
        return new OutboxConfig(file, synchronous, maxPayloadBytes, maxAttempts, backoff, windowPerTarget, ackTimeout, pollInterval,
                doneRetention, inboxRetention, n, maxBatch, redeliverInDoubt);
    }

    public OutboxConfig withInboxRetention(Duration d) {
        return new OutboxConfig(file, synchronous, maxPayloadBytes, maxAttempts, backoff, windowPerTarget, ackTimeout, pollInterval,
                doneRetention, d, maxDatabaseBytes, maxBatch, redeliverInDoubt);
    }

    public OutboxConfig withRedeliverInDoubt(boolean b) {
        return new OutboxConfig(file, synchronous, maxPayloadBytes, maxAttempts, backoff, windowPerTarget, ackTimeout, pollInterval,
                doneRetention, inboxRetention, maxDatabaseBytes, maxBatch, b);
    }
}
