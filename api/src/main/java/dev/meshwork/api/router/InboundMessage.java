package dev.meshwork.api.router;

import dev.meshwork.api.NodeId;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A message delivered to a {@link MessageHandler}. Immutable, except that the payload array is
 * shared: do not modify it.
 *
 * @param messageId   unique id, stable across re-sends
 * @param source      the node that sent it
 * @param topic       the topic it was sent to
 * @param payload     the message body
 * @param headers     free-form metadata
 * @param relayedBy   the neighbour that forwarded it, when it did not come directly from the source
 * @param receivedAt  when this node received it
 */
public record InboundMessage(String messageId, NodeId source, String topic, byte[] payload,
        Map<String, String> headers, Optional<NodeId> relayedBy, Instant receivedAt) {

    public InboundMessage {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(payload, "payload");
        headers = Map.copyOf(headers);
        Objects.requireNonNull(relayedBy, "relayedBy");
        Objects.requireNonNull(receivedAt, "receivedAt");
    }
}
