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
     *         ({@code UNKNOWN_PEER}, {@code PAYLOAD_TOO_LARGE}, {@code UNKNOWN_TOPIC} from the
     *         receiver, {@code HOP_LIMIT_EXCEEDED})
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
     * Removes a peer: its channels are closed with a Goodbye and queued messages fail with
     * {@code UNKNOWN_PEER}.
     *
     * @return whether the peer was known
     */
    boolean removePeer(NodeId node);

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
