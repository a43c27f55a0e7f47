package dev.meshwork.bench.outbox;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Route;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.router.WorkToken;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A Router stand-in that only delivers locally, to one handler: what the receiving inbox needs
 * to hand unwrapped messages on. Benchmark use only.
 */
public final class LocalRouter implements Router {

    private final NodeId self;
    private final MessageHandler handler;

    public LocalRouter(NodeId self, MessageHandler handler) {
        this.self = self;
        this.handler = handler;
    }

    static PeerInfo info(NodeId node, LinkState state) {
        return new PeerInfo(node, node.value(), state, Route.direct(URI.create("tcp://loopback")), List.of(), 0, 0,
                Optional.empty(), Instant.EPOCH, Optional.empty(), Map.of());
    }

    @Override
    public NodeId localNode() {
        return self;
    }

    @Override
    public CompletableFuture<DeliveryResult> send(NodeId target, String topic, byte[] payload, SendOptions options) {
        return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNKNOWN_PEER, "local only"));
    }

    @Override
    public CompletableFuture<Void> deliverLocally(InboundMessage message) {
        try {
            return handler.onMessage(message).toCompletableFuture();
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void addPeer(PeerConfig peer) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean removePeer(NodeId node) {
        return false;
    }

    @Override
    public List<PeerInfo> peers() {
        return List.of();
    }

    @Override
    public Optional<PeerInfo> peer(NodeId node) {
        return Optional.empty();
    }

    @Override
    public List<URI> listenUris() {
        return List.of();
    }

    @Override
    public WorkToken beginWork(NodeId peer) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Map<String, Long> counters() {
        return Map.of();
    }
}
