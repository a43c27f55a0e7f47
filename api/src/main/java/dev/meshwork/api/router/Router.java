package dev.meshwork.api.router;

import dev.meshwork.api.NodeId;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Moves messages to peers over logical links that survive the loss of any one connection.
 *
 * <p>A link is the relation to one peer; its channels are live connections to the peer's URLs,
 * one of them active (best RTT, with hysteresis), the others hot standbys. When the active
 * channel dies, traffic moves to a standby and unacknowledged messages are sent again; receivers
 * drop duplicates by message id. Without a direct link, messages go through a peer that has one.
 *
 * <p><b>Delivery:</b> {@link #send} is best effort with a bounded per-peer queue that survives
 * reconnects; every message that is not delivered fails its completion, none is dropped silently.
 * For durable delivery use {@link dev.meshwork.api.outbox.Outbox}.
 *
 * <p><b>Lifecycle</b> (see {@code docs/lifecycle.md}): a configured peer is never "unknown". Until
 * the router holds every peer its node is configured with ({@link #isReady()}), a send to a
 * configured peer that has not been added yet fails <em>retryable</em> ({@code UNREACHABLE_PEER});
 * a peer removed while the node stops fails its held messages with a retryable
 * {@code SHUT_DOWN}, and one removed by a configuration change with a retryable
 * {@code UNKNOWN_PEER}.
 *
 * <p><b>Threading:</b> all methods are thread-safe and non-blocking.
 */
@ProviderType
public interface Router {

    /** This node's id. */
    NodeId localNode();

    /**
     * Sends a message to {@code target}.
     *
     * @return completes when the frame was written (or, with {@link SendOptions#ackRequired()},
     *         when the target acknowledged it); fails with a {@link dev.meshwork.api.RetryableException}
     *         ({@code QUEUE_FULL}, {@code EXPIRED}, {@code TIMEOUT}, {@code UNREACHABLE_PEER},
     *         {@code SHUT_DOWN}) or a {@link dev.meshwork.api.PermanentException}
     *         ({@code UNKNOWN_PEER} for a target this node is not configured with and has
     *         learned of through no relay, {@code PAYLOAD_TOO_LARGE}, {@code UNKNOWN_TOPIC} from
     *         the receiver, {@code HOP_LIMIT_EXCEEDED}); a configured peer not added yet fails
     *         retryable ({@code UNREACHABLE_PEER}), see {@link #isReady()}
     * @throws IllegalArgumentException if the topic is empty or an argument is null
     */
    CompletableFuture<DeliveryResult> send(NodeId target, String topic, byte[] payload, SendOptions options);

    /**
     * Hands a message to this node's {@link MessageHandler}s for its topic, as if it had arrived
     * from the network. For bundles that unwrap messages of their own (the outbox's inbox).
     *
     * @return completes when every handler for the topic completed; fails with a
     *         {@link dev.meshwork.api.PermanentException} ({@code UNKNOWN_TOPIC}) when there is
     *         none, or with the handler's failure
     */
    CompletableFuture<Void> deliverLocally(InboundMessage message);

    /**
     * Adds a peer, or replaces the configuration of a known one (its channels are re-dialed
     * where the URLs changed). A URL whose scheme no {@link dev.meshwork.api.transport.Transport}
     * serves yet is accepted: it is dialed once a transport for it registers (transports come and
     * go with their bundles).
     *
     * @throws IllegalArgumentException if the configuration is invalid (no URL, a malformed URL,
     *         bad key, the local node's own id)
     */
    void addPeer(PeerConfig peer);

    /**
     * Removes a peer: its channels are closed with a Goodbye and queued messages fail with a
     * {@link dev.meshwork.api.RetryableException}: {@code SHUT_DOWN} when the peer is removed
     * because the node (or the router's bundle) is stopping, {@code UNKNOWN_PEER} when its
     * configuration was deleted while the node runs (configuration can come back; a durable
     * sender retries by its own policy).
     *
     * @return whether the peer was known
     */
    boolean removePeer(NodeId node);

    /**
     * Whether this router holds every peer of its node's configuration (in an OSGi framework:
     * every {@code dev.meshwork.peer} factory configuration ConfigAdmin holds when it is asked)
     * and can send. While it is not, callers that drain work (the outbox) wait, and front ends
     * (the console) answer "try again later". Once true it stays true until the router stops or
     * restarts its core; a peer configured later is added within milliseconds, and a send to it
     * in between fails retryable.
     *
     * @return {@code true} by default: a router without a notion of pending configuration is
     *         ready as soon as it is registered
     * @since 1.1
     */
    default boolean isReady() {
        return true;
    }

    /** Every peer known to this node, configured or learned through relays. */
    List<PeerInfo> peers();

    Optional<PeerInfo> peer(NodeId node);

    /** The URLs this node accepts connections on. */
    List<URI> listenUris();

    /**
     * Marks work in flight on {@code peer}: until the token is closed, the link does not move
     * traffic to another channel unless the active one dies.
     */
    WorkToken beginWork(NodeId peer);

    /**
     * Node-wide counters (failovers, reconnects, refusals, drops by reason, relayed,
     * duplicates dropped …) keyed by name; names are stable and documented in the README.
     */
    Map<String, Long> counters();
}
