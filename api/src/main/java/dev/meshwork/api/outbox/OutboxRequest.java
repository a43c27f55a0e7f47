package dev.meshwork.api.outbox;

import dev.meshwork.api.NodeId;
import java.util.Objects;
import java.util.Optional;

/**
 * A message to enqueue. Immutable, except that the payload array is shared: do not modify it
 * after enqueueing.
 *
 * @param target         the node to deliver to
 * @param topic          the topic of the receiving handler
 * @param payload        the body
 * @param idempotencyKey a caller's key; enqueueing the same key twice stores the message once
 * @param priority       higher is drained first among a target's pending messages; default 0
 */
public record OutboxRequest(NodeId target, String topic, byte[] payload, Optional<String> idempotencyKey, int priority) {

    public OutboxRequest {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty");
        }
    }

    public static OutboxRequest of(NodeId target, String topic, byte[] payload) {
        return new OutboxRequest(target, topic, payload, Optional.empty(), 0);
    }

    public OutboxRequest withIdempotencyKey(String key) {
        return new OutboxRequest(target, topic, payload, Optional.of(key), priority);
    }

    public OutboxRequest withPriority(int p) {
        return new OutboxRequest(target, topic, payload, idempotencyKey, p);
    }
}
