package dev.meshwork.transport.multichannel.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Goodbye;
import dev.meshwork.api.wire.HelloAck;
import dev.meshwork.transport.multichannel.internal.secure.FrameProtection;
import dev.meshwork.transport.multichannel.internal.secure.HandshakeException;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads.PeerIdentity;
import dev.meshwork.transport.multichannel.internal.secure.LocalCertificate;
import dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake;
import dev.meshwork.transport.multichannel.internal.secure.ProtectionException;
import dev.meshwork.transport.multichannel.internal.secure.StrangerGate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * The handler of one connection: the Noise XX handshake, then the protected transport phase in
 * which every {@link Frame} is encrypted ({@link FrameProtection}) and handed to the node core.
 * Owns the connection's lifecycle up to "authenticated"; what a peer may do once it is (channels,
 * links, routing) is the core's, reached through {@link Host}.
 *
 * <p>States ({@link State}), one owner of the transitions ({@link #moveTo}):
 * <pre>
 *  dialer (initiator)                         listener (responder)
 *  AWAIT_SECOND  --m2 ok, peer trusted,       AWAIT_FIRST  --m1 (32 bytes) / write m2--&gt; AWAIT_THIRD
 *                  write m3--&gt; AWAIT_ANSWER   AWAIT_THIRD  --m3 ok, peer trusted,
 *  AWAIT_ANSWER  --first frame not a                          send Neighbours--&gt; OPEN
 *                  Goodbye--&gt; OPEN
 *  any state --bad message, refusal, decryption failure, timeout, close--&gt; CLOSING (final)
 * </pre>
 * The responder's first protected frame is its verdict: a {@code Goodbye} (UNKNOWN_KEY,
 * KEY_MISMATCH, UNTRUSTED, SELF_CONNECTION) or, on acceptance, a {@code Neighbours} frame; so the
 * dialer only reports a link up once the listener accepted it.
 *
 * <p>Threads: messages arrive one at a time on the connection's I/O thread, which alone touches
 * the Noise state and the receiving cipher; the handshake's cryptography runs there, outside the
 * core's lock. Decisions (trust, channel up) are the core's, under its lock. The state field is
 * guarded by this object's monitor, a leaf lock (nothing is called while it is held), so the core
 * may close a session under its own lock. Sends are serialised on {@link #sendLock} so chunks and
 * nonces go out in order.
 *
 * <p>Memory held before authentication: the Noise state (1,873 bytes measured), this object and
 * the timeout task: about 2.2 KiB, so the default cap of 256 unauthenticated connections holds
 * under 600 KiB; a handshake message is at most {@value NoiseHandshake#MAX_MESSAGE_BYTES} bytes and
 * is checked before it is read. Nothing of an unauthenticated peer is kept after a
 * refusal.
 */
final class HandshakeSession implements ConnectionHandler {

    /** The lifecycle of one connection; see the class comment for the diagram. */
    enum State {
        /** Responder: waiting for message 1. */
        AWAIT_FIRST,
        /** Initiator: message 1 sent, waiting for message 2. */
        AWAIT_SECOND,
        /** Responder: message 2 sent, waiting for message 3. */
        AWAIT_THIRD,
        /** Initiator: message 3 sent, waiting for the responder's verdict (its first protected frame). */
        AWAIT_ANSWER,
        /** Authenticated: frames are decrypted and dispatched. */
        OPEN,
        /** Refused, failed, timed out or closed: nothing more is read, dispatched or sent. Final. */
        CLOSING
    }

    /** What a refused peer is told and how the refusal is counted. */
    record Refusal(Goodbye.Code code, String counter, MeshworkException why) {
    }

    /** The node core as the session sees it; every method takes the core's lock. */
    interface Host {
        /** Decides on a peer that proved {@code peer}: null to accept, else why not. */
        Refusal judge(HandshakeSession session, PeerIdentity peer);

        /** The session authenticated: bring its channel up (unless the session is closing by now). */
        void opened(HandshakeSession session);

        /** An authenticated frame, dispatched only while the session is open. */
        void dispatch(HandshakeSession session, Frame frame);

        /** The open session's peer broke the protocol: counted, answered with a Goodbye, closed. */
        void violated(HandshakeSession session, String counter, String why);

        /** The handshake failed or was refused; {@code counter} (may be null) is counted with a log line. */
        void handshakeFailed(HandshakeSession session, String counter, MeshworkException why);

        /** The connection closed after it was open. */
        void closedAfterOpen(HandshakeSession session, CloseReason reason);

        void rtt(HandshakeSession session, Duration sample);

        void writable(HandshakeSession session);

        void count(String counter);

        /** The neighbours frame this node sends first on a new link. */
        Frame neighboursFrame();
    }

    static final String V1_REFUSAL = "protocol version 1 is not supported, this node speaks "
            + HandshakePayloads.PROTOCOL_VERSION;

    private final Host host;
    private final NoiseHandshake noise;
    private final LocalCertificate local;
    private final Optional<NodeId> expected;
    private final int maxFrameBytes;
    private final FrameCodec codec;
    private final StrangerGate.Ticket ticket;
    private final Object sendLock = new Object();
    private State state;
    /** Set by the core under its lock: the dialed channel, or the inbound one once authenticated. */
    Channel channel;
    volatile Connection connection;
    private FrameProtection protection;
    private PeerIdentity peer;
    private ScheduledFuture<?> timeout;

    private HandshakeSession(Host host, LocalCertificate local, boolean initiator, Optional<NodeId> expected,
            int maxFrameBytes, StrangerGate.Ticket ticket) {
        this.host = host;
        this.local = local;
        this.noise = initiator ? local.initiator() : local.responder();
        this.expected = expected;
        this.maxFrameBytes = maxFrameBytes;
        this.codec = new FrameCodec(maxFrameBytes);
        this.ticket = ticket;
        this.state = initiator ? State.AWAIT_SECOND : State.AWAIT_FIRST;
    }

    /** A session for a connection this node dials to reach {@code expected} on {@code channel}. */
    static HandshakeSession dialing(Host host, LocalCertificate local, Channel channel, int maxFrameBytes) {
        HandshakeSession s = new HandshakeSession(host, local, true, Optional.of(channel.link.node), maxFrameBytes, null);
        s.channel = channel;
        return s;
    }

    /** A session for a connection a stranger opened, admitted with {@code ticket}. */
    static HandshakeSession accepting(Host host, LocalCertificate local, Connection connection, int maxFrameBytes,
            StrangerGate.Ticket ticket) {
        HandshakeSession s = new HandshakeSession(host, local, false, Optional.empty(), maxFrameBytes, ticket);
        s.connection = connection;
        return s;
    }

    /**
     * Starts the handshake once the connection exists: the initiator writes message 1; both arm
     * the timeout. Called by the core under its lock.
     */
    void begin(Connection conn, ScheduledFuture<?> handshakeTimeout) {
        connection = conn;
        timeout = handshakeTimeout;
        if (noise.isInitiator()) {
            try {
                conn.send(noise.write(new byte[0]));
            } catch (HandshakeException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    synchronized State state() {
        return state;
    }

    boolean isOpen() {
        return state() == State.OPEN;
    }

    boolean isInbound() {
        return !noise.isInitiator();
    }

    PeerIdentity peer() {
        return peer;
    }

    /** Moves {@code from} to {@code to}; false (and no move) when the session is no longer in {@code from}. */
    synchronized boolean moveTo(State from, State to) {
        if (state != from) {
            return false;
        }
        state = to;
        return true;
    }

    /** Enters CLOSING from any state; false when it already was. Releases the stranger's ticket and the timeout. */
    boolean closing() {
        synchronized (this) {
            if (state == State.CLOSING) {
                return false;
            }
            state = State.CLOSING;
        }
        release();
        return true;
    }

    private void release() {
        if (ticket != null) {
            ticket.release();
        }
        ScheduledFuture<?> t = timeout;
        if (t != null) {
            t.cancel(false);
        }
    }

    /** The handshake timed out (scheduler thread). */
    void timedOut(Duration limit) {
        State s = state();
        if (s == State.OPEN || s == State.CLOSING) {
            return;
        }
        fail("refused.handshakeTimeout", new RetryableException(FailureCode.TIMEOUT,
                "no authenticated handshake within " + limit.toMillis() + " ms (stuck in " + s + ")"),
                CloseReason.POLICY_VIOLATION);
    }

    @Override
    public void onMessage(Connection conn, byte[] message) {
        if (connection == null) {
            connection = conn;
        }
        State s = state();
        try {
            switch (s) {
                case OPEN -> onProtected(message);
                case AWAIT_FIRST -> onFirst(message);
                case AWAIT_SECOND -> onSecond(message);
                case AWAIT_THIRD -> onThird(message);
                case AWAIT_ANSWER -> onAnswer(message);
                case CLOSING -> host.count("dropped.afterClose"); // nothing is read once the session is closing
            }
        } catch (HandshakeException e) {
            fail("refused.badHandshake", new PermanentException(FailureCode.PROTOCOL_VIOLATION, e.getMessage()),
                    CloseReason.PROTOCOL_ERROR);
        } catch (ProtectionException e) {
            // only what the peer sends is out of step: our direction still carries the reason
            violation(e.counter(), e.getMessage());
        }
    }

    private void onFirst(byte[] message) throws HandshakeException {
        if (message.length != NoiseHandshake.FIRST_MESSAGE_BYTES) {
            if (isV1Hello(message)) {
                // answered in a form a v1 node shows to its operator, unencrypted: it has no keys
                connection.send(Frame.newBuilder().setHelloAck(HelloAck.newBuilder().setAccepted(false)
                        .setReason(V1_REFUSAL)).build().toByteArray());
                fail("refused.versionUnsupported", new PermanentException(FailureCode.PROTOCOL_VIOLATION,
                        "a protocol version 1 hello: " + V1_REFUSAL), CloseReason.POLICY_VIOLATION);
                return;
            }
            throw new HandshakeException("first handshake message of " + message.length + " bytes, expected "
                    + NoiseHandshake.FIRST_MESSAGE_BYTES);
        }
        noise.read(message);
        byte[] second = noise.write(local.payload(Optional.empty()));
        if (moveTo(State.AWAIT_FIRST, State.AWAIT_THIRD)) {
            connection.send(second);
        }
    }

    private void onSecond(byte[] message) throws HandshakeException {
        byte[] payload;
        try {
            payload = noise.read(message);
        } catch (HandshakeException e) {
            if (isV1Hello(message)) {
                fail("refused.versionUnsupported", new PermanentException(FailureCode.PROTOCOL_VIOLATION,
                        "the peer speaks protocol version 1; this node speaks " + HandshakePayloads.PROTOCOL_VERSION),
                        CloseReason.POLICY_VIOLATION);
                return;
            }
            throw e;
        }
        peer = HandshakePayloads.verify(payload, noise.remoteStaticKey());
        Refusal refusal = host.judge(this, peer);
        if (refusal != null) {
            fail(refusal.counter(), refusal.why(), CloseReason.POLICY_VIOLATION);
            return;
        }
        byte[] third = noise.write(local.payload(expected));
        protection = noise.split(maxFrameBytes);
        if (moveTo(State.AWAIT_SECOND, State.AWAIT_ANSWER)) {
            connection.send(third);
        }
    }

    private void onThird(byte[] message) throws HandshakeException {
        byte[] payload = noise.read(message);
        peer = HandshakePayloads.verify(payload, noise.remoteStaticKey());
        protection = noise.split(maxFrameBytes);
        Refusal refusal = host.judge(this, peer);
        if (refusal != null) {
            // the peer is authenticated now: tell it why, protected, before closing
            send(Frame.newBuilder().setGoodbye(Goodbye.newBuilder().setCode(refusal.code())
                    .setReason(refusal.why().getMessage())).build());
            fail(refusal.counter(), refusal.why(), CloseReason.POLICY_VIOLATION);
            return;
        }
        if (moveTo(State.AWAIT_THIRD, State.OPEN)) {
            release();
            send(host.neighboursFrame());
            host.opened(this);
        }
    }

    private void onAnswer(byte[] message) throws ProtectionException {
        byte[] bytes = protection.open(message);
        if (bytes == null) {
            return;
        }
        Frame frame = decode(bytes);
        if (frame == null) {
            return;
        }
        if (frame.hasGoodbye()) {
            Goodbye g = frame.getGoodbye();
            String why = "peer refused us: " + g.getCode() + ": " + g.getReason();
            MeshworkException e = switch (g.getCode()) {
                case UNKNOWN_KEY -> new RetryableException(FailureCode.UNKNOWN_PEER, why);
                case KEY_MISMATCH, UNTRUSTED -> new PermanentException(FailureCode.UNTRUSTED, why);
                case SELF_CONNECTION -> new PermanentException(FailureCode.SELF_CONNECTION, why);
                default -> new PermanentException(FailureCode.CLOSED, why);
            };
            fail(null, e, CloseReason.NORMAL);
            return;
        }
        if (moveTo(State.AWAIT_ANSWER, State.OPEN)) {
            release();
            send(host.neighboursFrame());
            host.opened(this);
            host.dispatch(this, frame);
        }
    }

    private void onProtected(byte[] message) throws ProtectionException {
        byte[] bytes = protection.open(message);
        if (bytes != null) {
            Frame frame = decode(bytes);
            if (frame != null) {
                host.dispatch(this, frame);
            }
        }
    }

    /** A frame that does not decode inside an authenticated stream is a protocol violation. */
    private Frame decode(byte[] bytes) {
        try {
            return codec.decode(bytes);
        } catch (PermanentException e) {
            violation(e.code() == FailureCode.PAYLOAD_TOO_LARGE ? "refused.oversizedFrame" : "refused.undecodableFrame",
                    e.getMessage());
            return null;
        }
    }

    /** The authenticated peer broke the protocol: tell it why (our direction is intact) and close. */
    private void violation(String counter, String why) {
        State s = state();
        if (s == State.CLOSING) {
            return;
        }
        if (s == State.OPEN) {
            host.violated(this, counter, why);
            return;
        }
        send(Frame.newBuilder().setGoodbye(Goodbye.newBuilder().setCode(Goodbye.Code.PROTOCOL_VIOLATION)
                .setReason(why)).build());
        fail(counter, new PermanentException(FailureCode.PROTOCOL_VIOLATION, why), CloseReason.PROTOCOL_ERROR);
    }

    /** Whether {@code message} is a v1 peer's first frame: a protobuf Frame with a Hello of version 1. */
    private static boolean isV1Hello(byte[] message) {
        if (message.length > NoiseHandshake.MAX_MESSAGE_BYTES) {
            return false;
        }
        try {
            Frame f = Frame.parseFrom(message);
            return f.hasHello() && f.getHello().getProtocolVersion() == 1;
        } catch (InvalidProtocolBufferException e) {
            return false;
        }
    }

    /**
     * Encrypts and writes one frame (all its chunks, in order).
     *
     * @return completes when the last chunk was written; a refused chunk breaks the nonce sequence,
     *         so the connection is then closed
     */
    CompletableFuture<Void> send(Frame frame) {
        Connection c = connection;
        if (c == null || protection == null) {
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.CLOSED, "not authenticated"));
        }
        byte[] bytes = FrameCodec.encode(frame);
        if (bytes.length > maxFrameBytes) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.PAYLOAD_TOO_LARGE,
                    "frame of " + bytes.length + " bytes exceeds " + maxFrameBytes));
        }
        CompletableFuture<Void> last;
        synchronized (sendLock) {
            if (state() == State.CLOSING && !frame.hasGoodbye()) {
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.CLOSED, "closing"));
            }
            List<byte[]> messages = protection.seal(bytes);
            CompletableFuture<?>[] all = new CompletableFuture<?>[messages.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = c.send(messages.get(i));
            }
            last = all.length == 1 ? all[0].thenApply(v -> null) : CompletableFuture.allOf(all);
        }
        return last.whenComplete((v, e) -> {
            if (e != null && c.isOpen()) {
                // the peer's receiving nonce no longer matches ours: the stream cannot continue
                c.close(CloseReason.INTERNAL_ERROR, "a protected message was not written: " + e.getMessage());
            }
        });
    }

    /** Ends the session: counted and logged by the core, the connection closed. */
    void fail(String counter, MeshworkException why, int closeCode) {
        if (!closing()) {
            return;
        }
        host.handshakeFailed(this, counter, why);
        Connection c = connection;
        if (c != null) {
            c.close(closeCode, why.getMessage());
        }
    }

    @Override
    public void onRtt(Connection conn, Duration sample) {
        if (isOpen()) {
            host.rtt(this, sample);
        }
    }

    @Override
    public void onWritabilityChanged(Connection conn, boolean writable) {
        if (writable && isOpen()) {
            host.writable(this);
        }
    }

    @Override
    public void onClosed(Connection conn, CloseReason reason) {
        State s;
        synchronized (this) {
            s = state;
            state = State.CLOSING;
        }
        release();
        if (s == State.OPEN) {
            host.closedAfterOpen(this, reason);
        } else if (s != State.CLOSING) {
            host.handshakeFailed(this, "handshakesAbandoned", new RetryableException(
                    FailureCode.CONNECTION_RESET, "closed during the handshake: " + reason.kind() + " " + reason.text()));
        }
    }

    @Override
    public String toString() {
        Connection c = connection;
        return (isInbound() ? "in:" : "out:") + (c == null ? "?" : c.uri()) + "[" + state() + "]";
    }
}
