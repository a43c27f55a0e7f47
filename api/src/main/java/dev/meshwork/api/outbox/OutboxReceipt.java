package dev.meshwork.api.outbox;

import java.util.Objects;

/**
 * What {@link Outbox#enqueue} stored. Immutable.
 *
 * @param messageId the message's id
 * @param duplicate whether the idempotency key matched a message stored before
 */
public record OutboxReceipt(String messageId, boolean duplicate) {

    public OutboxReceipt {
        Objects.requireNonNull(messageId, "messageId");
    }
}
