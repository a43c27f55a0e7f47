package dev.meshwork.api.router;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How one message is sent. Immutable; build from {@link #DEFAULT} with the {@code with…} methods.
 *
 * @param ackRequired whether the send completes only when the target acknowledged it
 * @param timeout     how long the message may wait in the queue and for its ack before it fails
 *                    with {@code EXPIRED} or {@code TIMEOUT}
 * @param messageId   the id to send under (a re-send of the same message must reuse it so the
 *                    receiver drops duplicates); generated when empty
 * @param hopLimit    how many relays may forward it, 1 to 16
 * @param headers     free-form metadata delivered with the message
 */
public record SendOptions(boolean ackRequired, Duration timeout, Optional<String> messageId, int hopLimit,
        Map<String, String> headers) {

    /** Maximum hop limit accepted. */
    public static final int MAX_HOP_LIMIT = 16;

    /** Acknowledged, 10 s timeout, generated id, hop limit 4, no headers. */
    public static final SendOptions DEFAULT = new SendOptions(true, Duration.ofSeconds(10), Optional.empty(), 4, Map.of());

    public SendOptions {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(messageId, "messageId");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("send timeout must be positive: " + timeout);
        }
        if (hopLimit < 1 || hopLimit > MAX_HOP_LIMIT) {
            throw new IllegalArgumentException("hop limit must be within 1.." + MAX_HOP_LIMIT + ": " + hopLimit);
        }
        headers = Map.copyOf(headers);
    }

    public SendOptions withAck(boolean ack) {
        return new SendOptions(ack, timeout, messageId, hopLimit, headers);
    }

    public SendOptions withTimeout(Duration t) {
        return new SendOptions(ackRequired, t, messageId, hopLimit, headers);
    }

    public SendOptions withMessageId(String id) {
        return new SendOptions(ackRequired, timeout, Optional.of(id), hopLimit, headers);
    }

    public SendOptions withHopLimit(int hops) {
        return new SendOptions(ackRequired, timeout, messageId, hops, headers);
    }

    public SendOptions withHeaders(Map<String, String> h) {
        return new SendOptions(ackRequired, timeout, messageId, hopLimit, h);
    }
}
