package dev.meshwork.health.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.ChannelState;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Route;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.router.WorkToken;
import dev.meshwork.testkit.ManualTime;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An in-memory stand-in for the Router (the real one is written by another module): direct
 * links between named nodes, messages delivered after a fixed delay on a {@link ManualTime},
 * peer events raised when a link is added or cut. Only what health sync uses is implemented.
 */
final class StandInMesh {

    final ManualTime time;
    final Duration delay;
    final Map<NodeId, StandInRouter> routers = new HashMap<>();
    final Set<Set<NodeId>> links = new HashSet<>();
    long messages;
    long bytes;

    StandInMesh(ManualTime time, Duration delay) {
        this.time = time;
        this.delay = delay;
    }

    StandInRouter router(String id) {
        return routers.computeIfAbsent(NodeId.of(id), StandInRouter::new);
    }

    void link(String a, String b) {
        links.add(Set.of(NodeId.of(a), NodeId.of(b)));
        router(a).peerEvent(PeerEvent.Type.PEER_UP, NodeId.of(b));
        router(b).peerEvent(PeerEvent.Type.PEER_UP, NodeId.of(a));
    }

    void cut(String a, String b) {
        links.remove(Set.of(NodeId.of(a), NodeId.of(b)));
        router(a).peerEvent(PeerEvent.Type.PEER_DOWN, NodeId.of(b));
        router(b).peerEvent(PeerEvent.Type.PEER_DOWN, NodeId.of(a));
    }

    final class StandInRouter implements Router {
        final NodeId self;
        Consumer<InboundMessage> handler = m -> { };
        Consumer<PeerEvent> peerListener = e -> { };
        /** While true, peer queries fail as the real router's do while its core restarts in place. */
        boolean restarting;

        StandInRouter(NodeId self) {
            this.self = self;
        }

        PeerInfo info(NodeId peer) {
            boolean up = links.contains(Set.of(self, peer));
            URI uri = URI.create("ws://" + peer.value() + ".test:7400/mesh");
            List<ChannelInfo> channels = up ? List.of(new ChannelInfo(uri, ChannelState.OPEN, true, false,
                    Optional.of(Duration.ofMillis(12)), 0, 0, 0, Optional.empty(), Optional.empty())) : List.of();
            return new PeerInfo(peer, peer.value(), up ? LinkState.UP : LinkState.DOWN,
                    up ? Route.direct(uri) : Route.UNREACHABLE, channels, 0, 0, Optional.empty(), time.instant(),
                    Optional.empty(), Map.of());
        }

        void peerEvent(PeerEvent.Type type, NodeId peer) {
            peerListener.accept(new PeerEvent(type, info(peer), time.instant(), type.name()));
        }

        private void failIfRestarting() {
            if (restarting) {
                throw new IllegalStateException("the router is stopped or restarting");
            }
        }

        @Override
        public NodeId localNode() {
            return self;
        }

        @Override
        public CompletableFuture<DeliveryResult> send(NodeId target, String topic, byte[] payload, SendOptions options) {
            if (!links.contains(Set.of(self, target))) {
                return CompletableFuture.failedFuture(new IllegalStateException("unreachable " + target));
            }
            messages++;
            bytes += payload.length;
            StandInRouter to = routers.get(target);
            InboundMessage m = new InboundMessage(UUID.randomUUID().toString(), self, topic, payload, Map.of(),
                    Optional.empty(), time.instant());
            time.schedule(() -> {
                if (links.contains(Set.of(self, target))) {
                    to.handler.accept(m);
                }
            }, delay.toNanos(), TimeUnit.NANOSECONDS);
            return CompletableFuture.completedFuture(new DeliveryResult(m.messageId(), target, info(target).route(), false, delay));
        }

        @Override
        public CompletableFuture<Void> deliverLocally(InboundMessage message) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void addPeer(PeerConfig peer) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean removePeer(NodeId node) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<PeerInfo> peers() {
            failIfRestarting();
            List<PeerInfo> result = new ArrayList<>();
            for (Set<NodeId> l : links) {
                if (l.contains(self)) {
                    result.add(info(l.stream().filter(n -> !n.equals(self)).findFirst().orElseThrow()));
                }
            }
            return result;
        }

        @Override
        public Optional<PeerInfo> peer(NodeId node) {
            failIfRestarting();
            return Optional.of(info(node));
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
}
