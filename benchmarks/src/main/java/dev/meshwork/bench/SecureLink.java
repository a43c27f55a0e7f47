package dev.meshwork.bench;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Neighbours;
import dev.meshwork.api.wire.WireConstants;
import dev.meshwork.transport.multichannel.internal.secure.FrameProtection;
import dev.meshwork.transport.multichannel.internal.secure.HandshakeException;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads.PeerIdentity;
import dev.meshwork.transport.multichannel.internal.secure.IdentityBindings;
import dev.meshwork.transport.multichannel.internal.secure.LocalCertificate;
import dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake;
import dev.meshwork.transport.multichannel.internal.secure.ProtectionException;
import dev.meshwork.transport.multichannel.internal.secure.TrustPolicy;
import java.security.PublicKey;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The node core's secure channel on one transport connection, for the benchmark: the same steps
 * and classes as the router's {@code HandshakeSession} (package-private there) — Noise XX with
 * {@link NoiseHandshake}, the certificate checked by {@link HandshakePayloads#verify}, the trust
 * decision by {@link TrustPolicy} against a pinned key, the responder's verdict as its first
 * protected frame, then every frame sealed and opened by {@link FrameProtection} — without the
 * router's links, channels and routing.
 *
 * <pre>
 *  initiator: AWAIT_SECOND --m2, trusted, write m3--&gt; AWAIT_ANSWER --verdict (Neighbours)--&gt; OPEN
 *  responder: AWAIT_FIRST --m1, write m2--&gt; AWAIT_THIRD --m3, trusted, send verdict--&gt; OPEN
 *  any --bad message, refusal, close--&gt; CLOSED
 * </pre>
 *
 * Messages arrive on the connection's I/O thread; {@link #send} may be called from any thread once
 * open (sealing is serialised so nonces go out in order).
 */
final class SecureLink implements ConnectionHandler {

    enum State { AWAIT_FIRST, AWAIT_SECOND, AWAIT_THIRD, AWAIT_ANSWER, OPEN, CLOSED }

    /** Receives every authenticated frame, on the connection's I/O thread. */
    interface Receiver {
        void onFrame(SecureLink link, Frame frame);
    }

    private static final int MAX_FRAME_BYTES = WireConstants.DEFAULT_MAX_FRAME_BYTES;

    private final LocalCertificate local;
    private final NoiseHandshake noise;
    private final TrustPolicy trust;
    private final PublicKey pinned;
    private final Optional<NodeId> expected;
    private final Receiver receiver;
    private final Object sendLock = new Object();
    /** Completes when the link is authenticated (both sides), or fails with why not. */
    final CompletableFuture<SecureLink> authenticated = new CompletableFuture<>();
    private volatile State state;
    private volatile Connection connection;
    private FrameProtection protection;

    private SecureLink(LocalCertificate local, boolean initiator, Optional<NodeId> expected, PublicKey pinned, Receiver receiver) {
        this.local = local;
        this.noise = initiator ? local.initiator() : local.responder();
        this.trust = new TrustPolicy(local.identity().nodeId(), local.identity().publicKey(), IdentityBindings.inMemory());
        this.pinned = pinned;
        this.expected = expected;
        this.receiver = receiver;
        this.state = initiator ? State.AWAIT_SECOND : State.AWAIT_FIRST;
    }

    /** The dialer's side: it expects {@code peer} with the pinned key {@code peerKey}. */
    static SecureLink initiator(LocalCertificate local, NodeId peer, PublicKey peerKey, Receiver receiver) {
        return new SecureLink(local, true, Optional.of(peer), peerKey, receiver);
    }

    /** The listener's side: it accepts only a peer with the pinned key {@code peerKey}. */
    static SecureLink responder(LocalCertificate local, PublicKey peerKey, Receiver receiver) {
        return new SecureLink(local, false, Optional.empty(), peerKey, receiver);
    }

    /** The initiator writes message 1 once the transport connection exists. */
    void begin(Connection conn) {
        connection = conn;
        try {
            conn.send(noise.write(new byte[0]));
        } catch (HandshakeException e) {
            fail(conn, e.getMessage());
        }
    }

    boolean isWritable() {
        Connection c = connection;
        return c != null && c.isWritable();
    }

    Connection connection() {
        return connection;
    }

    @Override
    public void onMessage(Connection conn, byte[] message) {
        connection = conn;
        try {
            switch (state) {
                case AWAIT_FIRST -> {
                    if (message.length != NoiseHandshake.FIRST_MESSAGE_BYTES) {
                        throw new HandshakeException("first message of " + message.length + " bytes");
                    }
                    noise.read(message);
                    state = State.AWAIT_THIRD;
                    conn.send(noise.write(local.payload(Optional.empty())));
                }
                case AWAIT_SECOND -> {
                    judge(HandshakePayloads.verify(noise.read(message), noise.remoteStaticKey()));
                    byte[] third = noise.write(local.payload(expected));
                    protection = noise.split(MAX_FRAME_BYTES);
                    state = State.AWAIT_ANSWER;
                    conn.send(third);
                }
                case AWAIT_THIRD -> {
                    judge(HandshakePayloads.verify(noise.read(message), noise.remoteStaticKey()));
                    protection = noise.split(MAX_FRAME_BYTES);
                    state = State.OPEN;
                    send(Frame.newBuilder().setNeighbours(Neighbours.newBuilder().setVersion(1)).build().toByteArray());
                    authenticated.complete(this);
                }
                case AWAIT_ANSWER -> {
                    Frame verdict = open(message);
                    if (verdict == null) {
                        return;
                    }
                    if (!verdict.hasNeighbours()) {
                        throw new HandshakeException("refused by the responder: " + verdict);
                    }
                    state = State.OPEN;
                    authenticated.complete(this);
                }
                case OPEN -> {
                    Frame frame = open(message);
                    if (frame != null) {
                        receiver.onFrame(this, frame);
                    }
                }
                case CLOSED -> {
                    // nothing is read once closed
                }
            }
        } catch (HandshakeException | ProtectionException e) {
            fail(conn, e.getMessage());
        }
    }

    private void judge(PeerIdentity peer) throws HandshakeException {
        if (expected.isPresent() && !expected.get().equals(peer.node())) {
            throw new HandshakeException("dialed " + expected.get() + ", reached " + peer.node());
        }
        if (peer.expected().isPresent() && !peer.expected().get().equals(local.identity().nodeId())) {
            throw new HandshakeException("the peer expected " + peer.expected().get());
        }
        TrustPolicy.Decision d = trust.decide(peer.node(), peer.identityKey(), Optional.of(pinned), Set.of());
        if (!d.accepted()) {
            throw new HandshakeException("untrusted: " + d.reason());
        }
    }

    /** Decrypts one message and parses the frame it completes (as the core does), or null for a chunk. */
    private Frame open(byte[] message) throws ProtectionException {
        byte[] bytes = protection.open(message);
        if (bytes == null) {
            return null;
        }
        try {
            return Frame.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new ProtectionException("refused.undecodableFrame", "undecodable frame");
        }
    }

    /** Seals one serialised frame and writes its messages in order. */
    void send(byte[] frame) {
        Connection c = connection;
        synchronized (sendLock) {
            for (byte[] m : protection.seal(frame)) {
                c.send(m);
            }
        }
    }

    private void fail(Connection conn, String why) {
        state = State.CLOSED;
        authenticated.completeExceptionally(new IllegalStateException(why));
        conn.close(CloseReason.PROTOCOL_ERROR, why);
    }

    @Override
    public void onClosed(Connection conn, CloseReason reason) {
        state = State.CLOSED;
        authenticated.completeExceptionally(new IllegalStateException("closed before authentication: " + reason.text()));
    }
}
