package dev.meshwork.outbox.sqlite.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.wire.Envelope;

/**
 * Wraps an outbox row for the {@code meshwork.outbox} topic: the wire schema's {@link Envelope}
 * carries the row's id, source, target, real topic and payload, so the receiver's inbox can
 * unwrap it and hand it to the handler of the real topic.
 */
final class DeliveryCodec {

    /** The topic durable deliveries travel under. */
    static final String TOPIC = "meshwork.outbox";

    private DeliveryCodec() {
    }

    static byte[] encode(String messageId, String source, String target, String topic, byte[] payload) {
        return Envelope.newBuilder().setMessageId(messageId).setSource(source).setTarget(target).setTopic(topic)
                .setPayload(ByteString.copyFrom(payload)).build().toByteArray();
    }

    /** @throws PermanentException {@code PROTOCOL_VIOLATION} when the bytes are not a delivery */
    static Envelope decode(byte[] bytes) {
        try {
            Envelope e = Envelope.parseFrom(bytes);
            if (e.getMessageId().isEmpty() || e.getTopic().isEmpty()) {
                throw new PermanentException(FailureCode.PROTOCOL_VIOLATION, "outbox delivery without message id or topic");
            }
            return e;
        } catch (InvalidProtocolBufferException ex) {
            throw new PermanentException(FailureCode.PROTOCOL_VIOLATION, "malformed outbox delivery: " + ex.getMessage(), ex);
        }
    }
}
