package dev.meshwork.transport.multichannel.internal;

import com.google.protobuf.ByteString;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.wire.Ack;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Goodbye;
import dev.meshwork.api.wire.Hello;
import dev.meshwork.api.wire.HelloAck;
import dev.meshwork.api.wire.WireConstants;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/** A hand-driven peer for bad-input tests: it speaks the wire protocol frame by frame, rightly or wrongly. */
final class RawPeer implements ConnectionHandler {

    final TestMesh mesh;
    final TestMesh.Node target;
    final Ed25519Identity identity;
    final List<Frame> received = new CopyOnWriteArrayList<>();
    volatile CloseReason closed;
    Connection connection;

    private RawPeer(TestMesh mesh, TestMesh.Node target, Ed25519Identity identity) {
        this.mesh = mesh;
        this.target = target;
        this.identity = identity;
    }

    /** Starts node {@code targetName} (trusting the raw peer's key) and connects to it. */
    static RawPeer connect(TestMesh mesh, String targetName) {
        return connect(mesh, targetName, UnaryOperator.identity());
    }

    static RawPeer connect(TestMesh mesh, String targetName, UnaryOperator<RouterSettings> tweak) {
        TestMesh.Node rawNode = mesh.node("raw");
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

    void reconnect() {
        received.clear();
        closed = null;
        var f = mesh.net.transport().dial(target.url(1), DialOptions.DEFAULT, this);
        mesh.time.runDue();
        connection = f.join();
        mesh.settle();
    }

    NodeId id() {
        return identity.nodeId();
    }

    Hello.Builder hello(byte[] nonce) {
        return Hello.newBuilder().setProtocolVersion(WireConstants.PROTOCOL_VERSION).setNodeId(id().value())
                .setPublicKey(ByteString.copyFrom(identity.publicKey().getEncoded()))
                .setIncarnation(identity.incarnation()).setNonce(ByteString.copyFrom(nonce));
    }

    static byte[] freshNonce() {
        byte[] n = new byte[24];
        new SecureRandom().nextBytes(n);
        return n;
    }

    void send(Frame frame) {
        sendBytes(frame.toByteArray());
    }

    /** Sends raw bytes as one message, framed or not. */
    void sendBytes(byte[] message) {
        connection.send(message);
        mesh.settle();
    }

    Hello targetHello() {
        return received.stream().filter(Frame::hasHello).map(Frame::getHello).findFirst().orElseThrow();
    }

    byte[] signatureForTarget() {
        Hello theirs = targetHello();
        return identity.sign(WireConstants.helloTranscript(theirs.getNonce().toByteArray(), id().value(),
                theirs.getNodeId(), identity.incarnation()));
    }

    void helloAndAuthenticate() {
        send(Frame.newBuilder().setHello(hello(freshNonce())).build());
        send(Frame.newBuilder().setHelloAck(HelloAck.newBuilder().setAccepted(true)
                .setSignature(ByteString.copyFrom(signatureForTarget()))).build());
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

    Optional<HelloAck> helloAck() {
        return received.stream().filter(Frame::hasHelloAck).map(Frame::getHelloAck).findFirst();
    }

    @Override
    public void onMessage(Connection c, byte[] message) {
        MemoryNetwork.peekFrame(message).ifPresent(frame -> {
            received.add(frame);
            if (frame.hasPing()) {
                c.send(Frame.newBuilder().setPong(dev.meshwork.api.wire.Pong.newBuilder().setId(frame.getPing().getId())
                        .setSentNanos(frame.getPing().getSentNanos())).build().toByteArray());
            }
        });
    }

    @Override
    public void onClosed(Connection c, CloseReason reason) {
        closed = reason;
    }
}
