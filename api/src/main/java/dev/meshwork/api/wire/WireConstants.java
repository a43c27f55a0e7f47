package dev.meshwork.api.wire;

import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/** Constants of the wire protocol that both ends must agree on. */
public final class WireConstants {

    /**
     * The protocol version this api speaks: carried in the secure channel's {@link HandshakePayload}
     * and named by its Noise prologue ({@code "meshwork/2"}); see docs/protocol.md.
     */
    public static final int PROTOCOL_VERSION = 2;

    /**
     * The minimum nonce length accepted in a version 1 hello.
     *
     * @deprecated protocol version 1 only; version 2 authenticates with a Noise handshake
     */
    @Deprecated
    public static final int MIN_NONCE_BYTES = 16;

    /** The default maximum size of one frame on the wire: 1 MiB. */
    public static final int DEFAULT_MAX_FRAME_BYTES = 1 << 20;

    private static final byte[] TRANSCRIPT_LABEL = "meshwork-hello-v1".getBytes(StandardCharsets.US_ASCII);

    private WireConstants() {
    }

    /**
     * @deprecated protocol version 1 only (its hello did not bind the signature to the connection);
     *             version 2 authenticates with a Noise handshake, see docs/protocol.md
     *
     * <p>The bytes a version 1 node signs in its {@link HelloAck}: a label, the peer's nonce, the signer's id,
     * the peer's id and the signer's incarnation, each length-prefixed so no two transcripts
     * collide. Binding both ids and the incarnation stops a signature being replayed to another
     * node or for another run.
     */
    @Deprecated
    public static byte[] helloTranscript(byte[] peerNonce, String signerNodeId, String peerNodeId, String signerIncarnation) {
        byte[] signer = signerNodeId.getBytes(StandardCharsets.UTF_8);
        byte[] peer = peerNodeId.getBytes(StandardCharsets.UTF_8);
        byte[] incarnation = signerIncarnation.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(TRANSCRIPT_LABEL.length + 16 + peerNonce.length + signer.length
                + peer.length + incarnation.length);
        buffer.put(TRANSCRIPT_LABEL);
        for (byte[] part : new byte[][] {peerNonce, signer, peer, incarnation}) {
            buffer.putInt(part.length).put(part);
        }
        return buffer.array();
    }
}
