package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.ChannelState;
import dev.meshwork.api.transport.Connection;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * One channel of a link: a peer URL we dial (outbound) or a connection the peer opened to us
 * (inbound), with its state, its connection while there is one, reconnect bookkeeping, RTT and
 * liveness.
 *
 * <p>The state follows {@link ChannelState}; {@link #moveTo} is the only place the state changes
 * and refuses an edge the diagram does not have. The transitions are decided by {@link MeshCore},
 * which holds its lock whenever it touches a channel. Not thread-safe on its own.
 */
final class Channel {

    private static final Map<ChannelState, Set<ChannelState>> EDGES = Map.of(
            ChannelState.IDLE, Set.of(ChannelState.CONNECTING, ChannelState.AUTHENTICATING, ChannelState.CLOSED),
            ChannelState.CONNECTING, Set.of(ChannelState.AUTHENTICATING, ChannelState.BACKOFF, ChannelState.FAILED,
                    ChannelState.CLOSED),
            ChannelState.AUTHENTICATING, Set.of(ChannelState.OPEN, ChannelState.BACKOFF, ChannelState.FAILED,
                    ChannelState.CLOSED),
            ChannelState.OPEN, Set.of(ChannelState.BACKOFF, ChannelState.FAILED, ChannelState.CLOSED),
            ChannelState.BACKOFF, Set.of(ChannelState.CONNECTING, ChannelState.FAILED, ChannelState.CLOSED),
            ChannelState.FAILED, Set.of(ChannelState.CONNECTING, ChannelState.CLOSED),
            ChannelState.CLOSED, Set.of());

    final Link link;
    final URI uri;
    final boolean inbound;
    ChannelState state = ChannelState.IDLE;
    Connection connection;
    /** The connection's secure session: every frame of this channel is written through it. */
    HandshakeSession session;
    CompletableFuture<Connection> dialing;
    int generation;
    int failures;
    FailureCode lastPermanent;
    int identicalPermanent;
    String lastError;
    long nextAttemptNanos;
    Instant nextAttemptAt;
    ScheduledFuture<?> timer;
    PhiAccrualDetector detector;
    double srttNanos = -1;
    int betterSamples;
    long lastPingSent;
    long pingSeq;
    String peerIncarnation;
    long bytesIn;
    long bytesOut;
    long openedAt;
    long lastProbedAt = Long.MIN_VALUE;

    Channel(Link link, URI uri, boolean inbound) {
        this.link = link;
        this.uri = uri;
        this.inbound = inbound;
    }

    /** Moves to {@code next}; an edge the state diagram lacks is a bug and throws. */
    void moveTo(ChannelState next) {
        if (next == state) {
            return;
        }
        if (!EDGES.get(state).contains(next)) {
            throw new IllegalStateException("channel " + uri + ": no edge " + state + " -> " + next);
        }
        state = next;
    }

    static boolean hasEdge(ChannelState from, ChannelState to) {
        return EDGES.get(from).contains(to);
    }

    void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    void rttSample(long nanos) {
        srttNanos = srttNanos < 0 ? nanos : 0.8 * srttNanos + 0.2 * nanos;
    }

    boolean isOpen() {
        return state == ChannelState.OPEN && connection != null;
    }

    ChannelInfo info(boolean active) {
        long in = bytesIn;
        long out = bytesOut;
        if (connection != null) {
            in += connection.stats().bytesIn();
            out += connection.stats().bytesOut();
        }
        Optional<Duration> rtt = srttNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos((long) srttNanos));
        boolean waiting = state == ChannelState.BACKOFF || state == ChannelState.FAILED;
        return new ChannelInfo(uri, state, active, inbound, rtt, in, out, failures, Optional.ofNullable(lastError),
                waiting ? Optional.ofNullable(nextAttemptAt) : Optional.empty());
    }

    @Override
    public String toString() {
        return (inbound ? "in:" : "") + uri + "[" + state + "]";
    }
}
