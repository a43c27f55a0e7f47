package dev.meshwork.transport.multichannel.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.wire.Ack;
import dev.meshwork.api.wire.AckBody;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.EnvelopeBody;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.Set;
import java.util.function.Supplier;

/**
 * End-to-end authentication of relayed traffic with per-message Ed25519 signatures by the nodes'
 * identity keys: the origin signs the part of an envelope a relay must not change, the target
 * signs its ack, each as exact bytes (a serialised {@link EnvelopeBody} or {@link AckBody}), so
 * nothing is canonicalised. A relay can drop a message, but neither alter, forge nor acknowledge
 * it: what it changes no longer verifies, and it holds neither key.
 *
 * <p>Signed data is a context string followed by the body, so an envelope signature can never pass
 * for an ack's, nor either for the handshake's:
 * <pre>
 *   origin_signature = Ed25519(origin key, "meshwork/v2 envelope\n" || signed_body)
 *   signature        = Ed25519(target key, "meshwork/v2 ack\n" || signed_body)
 * </pre>
 * The verifier takes the key bound to the claimed node ({@link KeyDirectory}); only when none is,
 * the key carried in the message, if it is in {@code node.trustedKeys} and not bound to another id
 * (it is then bound to this one). Why signatures rather than an end-to-end session through the
 * relay: no state per origin-target pair, nothing to set up before the first message, and a relay
 * path that changes mid-stream needs nothing re-negotiated; the cost (one sign, one verify per
 * relayed message and per ack) is measured by {@code ./bench relay}.
 *
 * <p>Relayed payloads are authenticated, not encrypted: each hop's link is encrypted, but the relay
 * itself can read what it forwards.
 */
final class EndToEndAuth {

    private static final byte[] ENVELOPE_CONTEXT = "meshwork/v2 envelope\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ACK_CONTEXT = "meshwork/v2 ack\n".getBytes(StandardCharsets.US_ASCII);

    /** Why a signed message was not taken as from the node it names; the counter records it. */
    enum Refusal {
        UNSIGNED("e2e.unsigned"),
        UNKNOWN_KEY("e2e.unknownKey"),
        BAD_SIGNATURE("e2e.badSignature"),
        MISMATCH("e2e.mismatch");

        final String counter;

        Refusal(String counter) {
            this.counter = counter;
        }
    }

    /** An opened envelope (its end-to-end fields read from the signed body), or why it was refused. */
    record Opened(Envelope envelope, Refusal refusal) {
    }

    /** A verified ack, its answer (ok, code, retryable, error) read from its signed body; or why it was refused. */
    record OpenedAck(Ack ack, Refusal refusal) {
    }

    private final NodeIdentity self;
    private final ByteString selfKey;
    private final KeyDirectory keys;
    private final Supplier<Set<String>> trustedKeys;

    EndToEndAuth(NodeIdentity self, KeyDirectory keys, Supplier<Set<String>> trustedKeys) {
        this.self = self;
        this.selfKey = ByteString.copyFrom(self.publicKey().getEncoded());
        this.keys = keys;
        this.trustedKeys = trustedKeys;
    }

    /** The envelope as it travels through a relay: routing fields outside, the rest signed inside. */
    Envelope seal(Envelope plain) {
        ByteString body = EnvelopeBody.newBuilder().setMessageId(plain.getMessageId()).setSource(plain.getSource())
                .setTarget(plain.getTarget()).setTopic(plain.getTopic()).setPayload(plain.getPayload())
                .setSourceIncarnation(plain.getSourceIncarnation()).setExpiresAtMillis(plain.getExpiresAtMillis())
                .putAllHeaders(plain.getHeadersMap()).build().toByteString();
        return Envelope.newBuilder().setMessageId(plain.getMessageId()).setSource(plain.getSource())
                .setTarget(plain.getTarget()).setHopLimit(plain.getHopLimit()).setAckRequested(plain.getAckRequested())
                .setSignedBody(body).setOriginSignature(ByteString.copyFrom(self.sign(signed(ENVELOPE_CONTEXT, body))))
                .setOriginKey(selfKey).build();
    }

    /**
     * The key a signature in the name of {@code node} is checked with: the one bound to it, else
     * {@code carriedKey} if it is in {@code node.trustedKeys} (then bound only by {@link #bind} once
     * the signature verified). Under the core's lock; the check itself ({@link #open(Envelope, Key)},
     * {@link #open(Ack, NodeId, Key)}) is a millisecond of CPU and runs off it.
     */
    Key key(NodeId node, ByteString carriedKey) {
        PublicKey bound = keys.keyOf(node).orElse(null);
        if (bound != null) {
            return new Key(bound, false, null);
        }
        if (carriedKey.isEmpty() || !trustedKeys.get().contains(Base64.getEncoder().encodeToString(carriedKey.toByteArray()))) {
            return new Key(null, false, Refusal.UNKNOWN_KEY);
        }
        try {
            return new Key(Ed25519Identity.parsePublicKey(carriedKey.toByteArray()), true, null);
        } catch (IllegalArgumentException e) {
            return new Key(null, false, Refusal.UNKNOWN_KEY);
        }
    }

    /** A key to check a signature with, or why there is none. */
    record Key(PublicKey key, boolean carried, Refusal refusal) {
    }

    /**
     * After a signature by {@code key} verified: binds a carried key to {@code node} (under the core's
     * lock). A copied public key binds nothing: only one that proved it signs for the id.
     *
     * @return false when the key is bound to another id or the id to another key
     */
    boolean bind(NodeId node, Key key) {
        return !key.carried() || keys.bind(node, key.key());
    }

    /**
     * Verifies a sealed envelope's origin signature with {@code key} and returns it with its
     * end-to-end fields read from the signed body (the outer message id, source and target must
     * equal the signed ones). Any thread.
     */
    Opened open(Envelope sealed, Key key) {
        if (sealed.getSignedBody().isEmpty() || sealed.getOriginSignature().isEmpty()) {
            return new Opened(null, Refusal.UNSIGNED);
        }
        if (!verify(key.key(), ENVELOPE_CONTEXT, sealed.getSignedBody(), sealed.getOriginSignature())) {
            return new Opened(null, Refusal.BAD_SIGNATURE);
        }
        EnvelopeBody body;
        try {
            body = EnvelopeBody.parseFrom(sealed.getSignedBody());
        } catch (InvalidProtocolBufferException e) {
            return new Opened(null, Refusal.MISMATCH);
        }
        if (!body.getMessageId().equals(sealed.getMessageId()) || !body.getSource().equals(sealed.getSource())
                || !body.getTarget().equals(sealed.getTarget())) {
            return new Opened(null, Refusal.MISMATCH);
        }
        return new Opened(sealed.toBuilder().clearSignedBody().clearOriginSignature().clearOriginKey()
                .setTopic(body.getTopic()).setPayload(body.getPayload()).setSourceIncarnation(body.getSourceIncarnation())
                .setExpiresAtMillis(body.getExpiresAtMillis()).clearHeaders().putAllHeaders(body.getHeadersMap())
                .build(), null);
    }

    /** This node's ack for a message {@code origin} sent through a relay, signed for the origin. */
    Ack sign(Ack plain, NodeId origin) {
        ByteString body = AckBody.newBuilder().setMessageId(plain.getMessageId()).setFrom(plain.getFrom())
                .setOrigin(origin.value()).setOk(plain.getOk()).setCode(plain.getCode())
                .setRetryable(plain.getRetryable()).setError(plain.getError()).build().toByteString();
        return plain.toBuilder().setSignedBody(body)
                .setSignature(ByteString.copyFrom(self.sign(signed(ACK_CONTEXT, body)))).setSignerKey(selfKey).build();
    }

    /** Verifies with {@code key} that {@code ack} is {@code from}'s answer to this node's message: the signed answer, or why not. Any thread. */
    OpenedAck open(Ack ack, NodeId from, Key key) {
        if (ack.getSignedBody().isEmpty() || ack.getSignature().isEmpty()) {
            return new OpenedAck(null, Refusal.UNSIGNED);
        }
        if (!verify(key.key(), ACK_CONTEXT, ack.getSignedBody(), ack.getSignature())) {
            return new OpenedAck(null, Refusal.BAD_SIGNATURE);
        }
        AckBody body;
        try {
            body = AckBody.parseFrom(ack.getSignedBody());
        } catch (InvalidProtocolBufferException e) {
            return new OpenedAck(null, Refusal.MISMATCH);
        }
        if (!body.getMessageId().equals(ack.getMessageId()) || !body.getFrom().equals(from.value())
                || !body.getOrigin().equals(self.nodeId().value())) {
            return new OpenedAck(null, Refusal.MISMATCH);
        }
        return new OpenedAck(Ack.newBuilder().setMessageId(body.getMessageId()).setFrom(body.getFrom()).setOk(body.getOk())
                .setCode(body.getCode()).setRetryable(body.getRetryable()).setError(body.getError()).build(), null);
    }

    private static boolean verify(PublicKey key, byte[] context, ByteString body, ByteString signature) {
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(context);
            verifier.update(body.asReadOnlyByteBuffer());
            return verifier.verify(signature.toByteArray());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] signed(byte[] context, ByteString body) {
        byte[] data = new byte[context.length + body.size()];
        System.arraycopy(context, 0, data, 0, context.length);
        body.copyTo(data, context.length);
        return data;
    }
}
