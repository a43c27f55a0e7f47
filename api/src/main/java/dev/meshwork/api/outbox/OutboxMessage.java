package dev.meshwork.api.outbox;

import dev.meshwork.api.NodeId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of one outbox row. Immutable.
 *
 * @param messageId      its id (also the id the receiver deduplicates on)
 * @param target         where it goes
 * @param topic          the receiving handler's topic
 * @param payloadSize    payload bytes
 * @param state          its state
 * @param attempts       delivery attempts so far
 * @param createdAt      when it was enqueued
 * @param nextAttemptAt  when the drain may try it next (pending rows)
 * @param lastError      the last failure, if any
 * @param idempotencyKey the caller's key, if any
 * @param priority       its priority
 */
public record OutboxMessage(String messageId, NodeId target, String topic, int payloadSize, OutboxState state,
        int attempts, Instant createdAt, Optional<Instant> nextAttemptAt, Optional<String> lastError,
        Optional<String> idempotencyKey, int priority) {

    public OutboxMessage {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    }
}
