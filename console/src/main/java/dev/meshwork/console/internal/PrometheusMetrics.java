package dev.meshwork.console.internal;

import dev.meshwork.api.lifecycle.LifecycleController;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.ChannelState;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerInfo;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a {@link NodeSnapshot} in the Prometheus text exposition format (version 0.0.4), served
 * at {@code /metrics}.
 */
final class PrometheusMetrics {

    private final StringBuilder out = new StringBuilder(2048);

    static String render(NodeSnapshot snapshot) {
        PrometheusMetrics m = new PrometheusMetrics();
        m.write(snapshot);
        return m.out.toString();
    }

    private void write(NodeSnapshot s) {
        if (s.router() != null) {
            Map<LinkState, Integer> links = new EnumMap<>(LinkState.class);
            Map<ChannelState, Integer> channels = new EnumMap<>(ChannelState.class);
            for (LinkState state : LinkState.values()) {
                links.put(state, 0);
            }
            for (ChannelState state : ChannelState.values()) {
                channels.put(state, 0);
            }
            header("meshwork_peer_queue_depth", "gauge", "Messages waiting in a link's send queue.");
            for (PeerInfo peer : s.router().peers()) {
                links.merge(peer.state(), 1, Integer::sum);
                for (ChannelInfo c : peer.channels()) {
                    channels.merge(c.state(), 1, Integer::sum);
                }
                sample("meshwork_peer_queue_depth", "peer", peer.node().value(), peer.queueDepth());
            }
            header("meshwork_links", "gauge", "Links to peers by state.");
            links.forEach((state, n) -> sample("meshwork_links", "state", lower(state), n));
            header("meshwork_channels", "gauge", "Channels to peers by state.");
            channels.forEach((state, n) -> sample("meshwork_channels", "state", lower(state), n));
            header("meshwork_channel_rtt_seconds", "gauge", "Smoothed round-trip time of each open channel.");
            for (PeerInfo peer : s.router().peers()) {
                for (ChannelInfo c : peer.channels()) {
                    c.rtt().ifPresent(rtt -> out.append("meshwork_channel_rtt_seconds{peer=\"").append(escape(peer.node().value()))
                            .append("\",channel=\"").append(escape(c.uri().toString())).append("\"} ")
                            .append(rtt.toNanos() / 1e9).append('\n'));
                }
            }
            header("meshwork_router_events_total", "counter", "Router counters (failovers, reconnects, refusals, drops…) by name.");
            s.router().counters().forEach((name, value) -> sample("meshwork_router_events_total", "event", name, value));
        }
        if (s.outbox() != null) {
            OutboxStats stats = s.outbox().stats();
            header("meshwork_outbox_messages", "gauge", "Outbox rows by state.");
            for (OutboxState state : OutboxState.values()) {
                sample("meshwork_outbox_messages", "state", lower(state), stats.count(state));
            }
            header("meshwork_outbox_oldest_pending_seconds", "gauge", "Age of the oldest pending outbox row.");
            out.append("meshwork_outbox_oldest_pending_seconds ")
                    .append(stats.oldestPendingAge().map(d -> d.toMillis() / 1000.0).orElse(0.0)).append('\n');
        }
        if (!s.gateways().isEmpty()) {
            header("meshwork_gateway_restarts_total", "counter", "Restarts of each supervised gateway.");
            for (LifecycleController g : s.gateways()) {
                sample("meshwork_gateway_restarts_total", "gateway", g.name(), g.status().restarts());
            }
            header("meshwork_gateway_state", "gauge", "1 for the state each supervised gateway is in.");
            for (LifecycleController g : s.gateways()) {
                LifecycleStatus status = g.status();
                for (LifecycleState state : LifecycleState.values()) {
                    out.append("meshwork_gateway_state{gateway=\"").append(escape(g.name())).append("\",state=\"")
                            .append(lower(state)).append("\"} ").append(status.state() == state ? 1 : 0).append('\n');
                }
            }
        }
    }

    private void header(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private void sample(String name, String label, String value, Number sample) {
        out.append(name).append('{').append(label).append("=\"").append(escape(value)).append("\"} ").append(sample).append('\n');
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
