package dev.meshwork.transport.multichannel.internal.secure;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.wire.HandshakePayload;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.List;
import java.util.Optional;

/**
 * Builds and checks the {@link HandshakePayload} of the Noise handshake: the certificate binding
 * the sender's Noise static key to its Ed25519 identity, and who the sender is.
 *
 * <p>The signature covers {@value #SIGNATURE_CONTEXT} followed by the 32-byte Noise static public
 * key (as libp2p-noise signs {@code "noise-libp2p-static-key:"} + key). Noise has already proved
 * that the peer holds the private half of that static key, so a valid signature proves the holder
 * of the identity key vouched for it; recorded payloads are useless to anyone else because the
 * static key they certify is not theirs.
 *
 * <p>Every field is bounded and checked here, before anything is kept: the whole payload at most
 * {@value #MAX_PAYLOAD_BYTES} bytes, identity key exactly 44 bytes, signature exactly 64 bytes,
 * node ids in NodeId syntax (at most 64 characters), incarnation 1..64 characters, at most
 * {@value #MAX_CAPABILITIES} capabilities of at most {@value #MAX_CAPABILITY_CHARS} characters.
 */
public final class HandshakePayloads {

    /** The signature context, as in libp2p-noise's {@code "noise-libp2p-static-key:"}. */
    public static final String SIGNATURE_CONTEXT = "meshwork-noise-static-key:";
    /** The protocol version carried in the payload. */
    public static final int PROTOCOL_VERSION = 2;
    public static final int MAX_PAYLOAD_BYTES = 1024;
    public static final int IDENTITY_KEY_BYTES = 44;
    public static final int SIGNATURE_BYTES = 64;
    public static final int MAX_INCARNATION_CHARS = 64;
    public static final int MAX_CAPABILITIES = 16;
    public static final int MAX_CAPABILITY_CHARS = 32;
    /** Capabilities this node announces. */
    public static final List<String> CAPABILITIES = List.of("relay", "ping");

    private HandshakePayloads() {
    }

    /** What a verified payload says about the peer. */
    public record PeerIdentity(NodeId node, PublicKey identityKey, String incarnation, int protocolVersion,
            List<String> capabilities, Optional<NodeId> expected) {
    }

    /** The bytes signed for {@code noiseStaticKey}. */
    public static byte[] signedBytes(byte[] noiseStaticKey) {
        byte[] context = SIGNATURE_CONTEXT.getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[context.length + noiseStaticKey.length];
        System.arraycopy(context, 0, data, 0, context.length);
        System.arraycopy(noiseStaticKey, 0, data, context.length, noiseStaticKey.length);
        return data;
    }

    /** This node's payload: identity, the certificate of {@code noiseStaticKey}, and for a dialer the node it expects. */
    public static byte[] build(NodeIdentity identity, byte[] noiseStaticKey, Optional<NodeId> expected) {
        return message(identity, noiseStaticKey).setExpectedNodeId(expected.map(NodeId::value).orElse(""))
                .build().toByteArray();
    }

    static HandshakePayload.Builder message(NodeIdentity identity, byte[] noiseStaticKey) {
        return HandshakePayload.newBuilder()
                .setIdentityKey(ByteString.copyFrom(identity.publicKey().getEncoded()))
                .setIdentitySig(ByteString.copyFrom(identity.sign(signedBytes(noiseStaticKey))))
                .setNodeId(identity.nodeId().value()).setIncarnation(identity.incarnation())
                .setProtocolVersion(PROTOCOL_VERSION).addAllCapabilities(CAPABILITIES);
    }

    /**
     * Parses and checks a peer's payload against the Noise static key the handshake authenticated.
     *
     * @throws HandshakeException naming the first field that is out of bounds, malformed, or a
     *         signature that does not certify {@code remoteStaticKey}
     */
    public static PeerIdentity verify(byte[] payload, byte[] remoteStaticKey) throws HandshakeException {
        if (payload.length > MAX_PAYLOAD_BYTES) {
            throw new HandshakeException("handshake payload of " + payload.length + " bytes exceeds " + MAX_PAYLOAD_BYTES);
        }
        HandshakePayload p;
        try {
            p = HandshakePayload.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new HandshakeException("handshake payload is not a HandshakePayload");
        }
        if (p.getProtocolVersion() != PROTOCOL_VERSION) {
            throw new HandshakeException("protocol version " + p.getProtocolVersion() + " is not supported, this node speaks "
                    + PROTOCOL_VERSION);
        }
        if (p.getIdentityKey().size() != IDENTITY_KEY_BYTES) {
            throw new HandshakeException("identity key of " + p.getIdentityKey().size() + " bytes, not " + IDENTITY_KEY_BYTES);
        }
        if (p.getIdentitySig().size() != SIGNATURE_BYTES) {
            throw new HandshakeException("identity signature of " + p.getIdentitySig().size() + " bytes, not " + SIGNATURE_BYTES);
        }
        if (!NodeId.isValid(p.getNodeId())) {
            throw new HandshakeException("invalid node id");
        }
        if (p.getIncarnation().isEmpty() || p.getIncarnation().length() > MAX_INCARNATION_CHARS) {
            throw new HandshakeException("incarnation of " + p.getIncarnation().length() + " characters (1.."
                    + MAX_INCARNATION_CHARS + ")");
        }
        if (p.getCapabilitiesCount() > MAX_CAPABILITIES
                || p.getCapabilitiesList().stream().anyMatch(c -> c.length() > MAX_CAPABILITY_CHARS)) {
            throw new HandshakeException("more than " + MAX_CAPABILITIES + " capabilities or one longer than "
                    + MAX_CAPABILITY_CHARS + " characters");
        }
        if (!p.getExpectedNodeId().isEmpty() && !NodeId.isValid(p.getExpectedNodeId())) {
            throw new HandshakeException("invalid expected node id");
        }
        PublicKey key;
        try {
            key = Ed25519Identity.parsePublicKey(p.getIdentityKey().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new HandshakeException("identity key is not an Ed25519 key");
        }
        if (!Ed25519Identity.verify(key, signedBytes(remoteStaticKey), p.getIdentitySig().toByteArray())) {
            throw new HandshakeException("identity signature does not certify the Noise static key of this handshake");
        }
        return new PeerIdentity(NodeId.of(p.getNodeId()), key, p.getIncarnation(), p.getProtocolVersion(),
                List.copyOf(p.getCapabilitiesList()),
                p.getExpectedNodeId().isEmpty() ? Optional.empty() : Optional.of(NodeId.of(p.getExpectedNodeId())));
    }
}
