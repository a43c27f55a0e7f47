package dev.meshwork.transport.multichannel.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.wire.Ack;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Goodbye;
import dev.meshwork.api.wire.HandshakePayload;
import dev.meshwork.api.wire.Hello;
import dev.meshwork.api.wire.HelloAck;
import dev.meshwork.transport.multichannel.internal.secure.FrameProtection;
import dev.meshwork.transport.multichannel.internal.secure.HandshakeException;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads;
import dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake;
import dev.meshwork.transport.multichannel.internal.secure.NoiseStaticKey;
import dev.meshwork.transport.multichannel.internal.secure.ProtectionException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A hand-driven peer for bad-input tests: it speaks the secure channel message by message, rightly
 * or wrongly (its own Noise client over noise-java, not the node's code), and records every raw
 * message it receives and every frame it could decrypt.
 */
final class RawPeer implements ConnectionHandler {

    final TestMesh mesh;
    final TestMesh.Node target;
    /** The identity this peer certifies its static key with (and claims, unless the payload is tweaked). */
    NodeIdentity identity;
    final NoiseStaticKey staticKey = NoiseStaticKey.generate();
    final List<byte[]> rawReceived = new CopyOnWriteArrayList<>();
    final List<Frame> received = new CopyOnWriteArrayList<>();
    volatile CloseReason closed;
    Connection connection;
    NoiseHandshake noise;
    FrameProtection protection;
    HandshakePayloads.PeerIdentity responder;
    volatile String decryptFailure;

    private RawPeer(TestMesh mesh, TestMesh.Node target, NodeIdentity identity) {
        this.mesh = mesh;
        this.target = target;
        this.identity = identity;
    }

    /** Starts node {@code targetName} (trusting the raw peer's key) and connects to it. */
    static RawPeer connect(TestMesh mesh, String targetName) {
        return connect(mesh, targetName, UnaryOperator.identity());
    }

    static RawPeer connect(TestMesh mesh, String targetName, UnaryOperator<RouterSettings> tweak) {
        TestMesh.Node rawNode = mesh.nodes.containsKey("raw") ? mesh.nodes.get("raw") : mesh.node("raw");
        TestMesh.Node target = mesh.node(targetName);
        target.start(tweak, target.url(1));
        RawPeer raw = new RawPeer(mesh, target, rawNode.identity);
        raw.reconnect();
        return raw;
    }

    /**
     * Connects {@code self}'s identity by hand to the started {@code target} (which trusts it if
     * {@code self} was made before it started).
     */
    static RawPeer as(TestMesh mesh, TestMesh.Node self, TestMesh.Node target) {
        RawPeer raw = new RawPeer(mesh, target, self.identity);
        raw.reconnect();
        return raw;
    }

    /** A raw peer (with the "raw" node's identity) that has not connected to {@code target} yet. */
    static RawPeer unconnected(TestMesh mesh, TestMesh.Node target) {
        TestMesh.Node rawNode = mesh.nodes.containsKey("raw") ? mesh.nodes.get("raw") : mesh.node("raw");
        return new RawPeer(mesh, target, rawNode.identity);
    }

    /** Opens the connection without waiting for anything else to settle. */
    void open() {
        var f = mesh.net.transport().dial(target.url(1), DialOptions.DEFAULT, this);
        mesh.time.runDue();
        connection = f.join();
        mesh.time.runDue();
    }

    void reconnect() {
        rawReceived.clear();
        received.clear();
        closed = null;
        protection = null;
        noise = null;
        var f = mesh.net.transport().dial(target.url(1), DialOptions.DEFAULT, this);
        mesh.time.runDue();
        connection = f.join();
        mesh.settle();
    }

    NodeId id() {
        return identity.nodeId();
    }

    // ------------------------------------------------------------ the handshake, step by step

    /** Writes message 1 and waits for message 2. */
    byte[] first() {
        noise = NoiseHandshake.initiator(staticKey);
        try {
            byte[] m1 = noise.write(new byte[0]);
            sendBytes(m1);
            return m1;
        } catch (HandshakeException e) {
            throw new AssertionError(e);
        }
    }

    /** Reads message 2 (the last raw message) and checks the responder's certificate. */
    void readSecond() {
        try {
            byte[] payload = noise.read(rawReceived.get(rawReceived.size() - 1));
            responder = HandshakePayloads.verify(payload, noise.remoteStaticKey());
        } catch (HandshakeException e) {
            throw new AssertionError(e);
        }
    }

    /** This peer's honest payload: its identity certifying its static key, expecting the target. */
    HandshakePayload.Builder payload() {
        try {
            return HandshakePayload.parseFrom(HandshakePayloads.build(identity, staticKey.publicKey(),
                    Optional.of(target.id()))).toBuilder();
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    /** Writes message 3 with {@code payload}, switches to protected messages, and waits for the verdict. */
    byte[] third(HandshakePayload payload) {
        try {
            byte[] m3 = noise.write(payload.toByteArray());
            protection = noise.split(4 << 20);
            sendBytes(m3);
            return m3;
        } catch (HandshakeException e) {
            throw new AssertionError(e);
        }
    }

    /** The whole handshake, honestly. */
    void handshake() {
        handshake(UnaryOperator.identity());
    }

    void handshake(UnaryOperator<HandshakePayload.Builder> tweak) {
        first();
        readSecond();
        third(tweak.apply(payload()).build());
    }

    /** Kept for the tests written against the v1 hello: the v2 handshake now. */
    void helloAndAuthenticate() {
        handshake();
    }

    // ------------------------------------------------------------ protected frames

    /** The protected messages of {@code frame}, not sent. */
    List<byte[]> seal(Frame frame) {
        return protection.seal(frame.toByteArray());
    }

    void send(Frame frame) {
        for (byte[] m : seal(frame)) {
            connection.send(m);
        }
        mesh.settle();
    }

    /** Sends raw bytes as one message, protected or not. */
    void sendBytes(byte[] message) {
        connection.send(message);
        mesh.settle();
    }

    /** A v1 node's hello. */
    Hello.Builder hello(byte[] nonce) {
        return Hello.newBuilder().setProtocolVersion(1).setNodeId(id().value())
                .setPublicKey(ByteString.copyFrom(identity.publicKey().getEncoded()))
                .setIncarnation(identity.incarnation()).setNonce(ByteString.copyFrom(nonce));
    }

    static byte[] freshNonce() {
        byte[] n = new byte[24];
        new SecureRandom().nextBytes(n);
        return n;
    }

    Envelope.Builder envelope(String id) {
        return Envelope.newBuilder().setMessageId(id).setSource(id().value()).setTarget(target.id().value())
                .setTopic(TestMesh.TOPIC).setPayload(ByteString.copyFromUtf8("payload " + id)).setHopLimit(4)
                .setAckRequested(true).setSourceIncarnation(identity.incarnation());
    }

    void sendEnvelope(Envelope.Builder e) {
        send(Frame.newBuilder().setEnvelope(e).build());
    }

    /** Claims {@code ids} as its direct neighbours, as a relay would. */
    void claimNeighbours(long version, String... ids) {
        send(Frame.newBuilder().setNeighbours(dev.meshwork.api.wire.Neighbours.newBuilder()
                .addAllNodeIds(List.of(ids)).setVersion(version)).build());
    }

    List<Envelope> envelopes() {
        return received.stream().filter(Frame::hasEnvelope).map(Frame::getEnvelope).toList();
    }

    Optional<Goodbye> goodbye() {
        return received.stream().filter(Frame::hasGoodbye).map(Frame::getGoodbye).findFirst();
    }

    List<Ack> acks() {
        return received.stream().filter(Frame::hasAck).map(Frame::getAck).toList();
    }

    /** A v1 HelloAck among the unprotected messages. */
    Optional<HelloAck> helloAck() {
        return rawReceived.stream().map(MemoryNetwork::peekFrame).flatMap(Optional::stream)
                .filter(Frame::hasHelloAck).map(Frame::getHelloAck).findFirst();
    }

    @Override
    public void onMessage(Connection c, byte[] message) {
        if (protection == null) {
            rawReceived.add(message);
            return;
        }
        try {
            byte[] bytes = protection.open(message);
            if (bytes == null) {
                return;
            }
            Frame frame = Frame.parseFrom(bytes);
            received.add(frame);
            if (frame.hasPing()) {
                for (byte[] m : seal(Frame.newBuilder().setPong(dev.meshwork.api.wire.Pong.newBuilder()
                        .setId(frame.getPing().getId()).setSentNanos(frame.getPing().getSentNanos())).build())) {
                    c.send(m);
                }
            }
        } catch (ProtectionException | InvalidProtocolBufferException e) {
            decryptFailure = e.getMessage();
        }
    }

    @Override
    public void onClosed(Connection c, CloseReason reason) {
        closed = reason;
    }
}
