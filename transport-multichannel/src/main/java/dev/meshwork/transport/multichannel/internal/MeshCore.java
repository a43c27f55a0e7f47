package dev.meshwork.transport.multichannel.internal;

import com.google.protobuf.ByteString;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.ChannelState;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.PeerListener;
import dev.meshwork.api.router.Route;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.router.WorkToken;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.api.wire.Ack;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Goodbye;
import dev.meshwork.api.wire.Neighbours;
import dev.meshwork.api.wire.Ping;
import dev.meshwork.api.wire.Pong;
import dev.meshwork.api.wire.WireConstants;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads.PeerIdentity;
import dev.meshwork.transport.multichannel.internal.secure.IdentityBindings;
import dev.meshwork.transport.multichannel.internal.secure.LocalCertificate;
import dev.meshwork.transport.multichannel.internal.secure.StrangerGate;
import dev.meshwork.transport.multichannel.internal.secure.TrustPolicy;
import java.net.URI;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node core as a plain object: authenticated links to peers over every registered transport,
 * several channels per link, failover, RTT-based channel choice with hysteresis, reconnect with
 * backoff, relay and duplicate suppression. The DS component {@code MeshRouter} builds one.
 *
 * <p>Why one lock: every decision (which channel is active, what to re-send, when to dial) reads
 * the state of the whole link and often of its neighbours; one lock keeps them consistent and is
 * never held across a blocking call (transports' sends are non-blocking, handlers and listeners
 * run on {@code callbacks}). Time comes from {@code nanoTime}, {@code wall} and {@code scheduler},
 * so tests drive everything with a manual clock.
 */
public final class MeshCore implements Router {

    private static final Logger LOG = LoggerFactory.getLogger(MeshCore.class);
    private static final long TICK_MILLIS = 20;
    private static final int RATE_REFUSALS_BEFORE_CLOSE = 1000;
    private static final long MIN_SWITCH_GAIN_NANOS = 2_000_000;
    /** How long a relay through which a message was lost is passed over for that target (see {@link NeighbourClaims}). */
    private static final long RELAY_HOLD_DOWN_NANOS = Duration.ofSeconds(30).toNanos();
    private final NodeIdentity identity;
    /** Replaced as a whole by {@link #updateSettings}; read under the lock, except the immutable value itself. */
    private volatile RouterSettings settings;
    private final LongSupplier nanoTime;
    private final InstantSource wall;
    private final ScheduledExecutorService scheduler;
    private final Executor callbacks;
    private final DoubleSupplier random;
    private final LocalCertificate certificate;
    private final TrustPolicy trust;
    private final StrangerGate strangers;
    private final SessionHost sessionHost = new SessionHost();

    private final Map<String, Transport> transports = new ConcurrentHashMap<>();
    private final Map<NodeId, Link> links = new LinkedHashMap<>();
    private final Map<String, Pending> pendingById = new HashMap<>();
    private final Map<String, List<MessageHandler>> handlers = new ConcurrentHashMap<>();
    private final List<PeerListener> listeners = new CopyOnWriteArrayList<>();
    private final SerialExecutor events;
    /** Signs relayed messages off the lock, one at a time, in the order they were queued. */
    private final SerialExecutor signing;
    /** Checks end-to-end signatures off the lock, in the order they arrived. */
    private final SerialExecutor verifying;
    private final Map<NodeId, SerialExecutor> inboundOrder = new ConcurrentHashMap<>();
    private final Map<String, Long> counters = new TreeMap<>();
    private final List<Listen> listens = new CopyOnWriteArrayList<>();
    private final DedupWindow<Delivery> received;
    private final RelayLog relayed;
    private final NeighbourClaims claims;
    private final EndToEndAuth auth;
    private final InboundValidator validator;
    private long neighboursVersion;
    /** Log lines that bad input can trigger: at most 5 a second, the counters keep the full story. */
    private final RateLimiter badInputLog;
    private long lastTickNanos;
    private Instant lastTickWall;
    private ScheduledFuture<?> ticker;
    private boolean closed;

    /** What the receiver remembers of a message: where to answer, and the answer once it is known. */
    private static final class Delivery {
        Channel replyTo;
        Ack ack;
    }

    /** A core whose learned identity bindings live in memory only (tests, benchmarks). */
    public MeshCore(NodeIdentity identity, RouterSettings settings, LongSupplier nanoTime, InstantSource wall,
            ScheduledExecutorService scheduler, Executor callbacks, DoubleSupplier random) {
        this(identity, settings, nanoTime, wall, scheduler, callbacks, random, IdentityBindings.inMemory());
    }

    /**
     * @param bindings the node ids learned with a trusted key, kept across restarts (see {@link TrustPolicy})
     */
    public MeshCore(NodeIdentity identity, RouterSettings settings, LongSupplier nanoTime, InstantSource wall,
            ScheduledExecutorService scheduler, Executor callbacks, DoubleSupplier random, IdentityBindings bindings) {
        this.identity = identity;
        this.settings = settings;
        this.nanoTime = nanoTime;
        this.wall = wall;
        this.scheduler = scheduler;
        this.callbacks = callbacks;
        this.random = random;
        this.events = new SerialExecutor(callbacks);
        this.signing = new SerialExecutor(callbacks);
        this.verifying = new SerialExecutor(callbacks);
        this.badInputLog = new RateLimiter(5, nanoTime.getAsLong());
        long window = settings.dedupWindow().toNanos();
        this.received = new DedupWindow<>(window, settings.dedupCapacity());
        this.relayed = new RelayLog(window, settings.dedupCapacity());
        this.claims = new NeighbourClaims(identity.nodeId(), RELAY_HOLD_DOWN_NANOS);
        this.auth = new EndToEndAuth(identity, new LinkKeys(links, bindings, settings.dedupCapacity()), () -> this.settings.trustedKeys());
        this.validator = new InboundValidator(identity.nodeId(), () -> this.settings, wall);
        this.certificate = new LocalCertificate(identity);
        this.trust = new TrustPolicy(identity.nodeId(), identity.publicKey(), bindings);
        this.strangers = new StrangerGate(() -> this.settings.maxHandshakes(), () -> this.settings.maxHandshakesPerAddress());
    }

    /** Starts the liveness, ping and clock-jump ticker. */
    public synchronized void start() {
        lastTickNanos = nanoTime.getAsLong();
        lastTickWall = wall.instant();
        ticker = scheduler.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    public RouterSettings settings() {
        return settings;
    }

    /**
     * Applies changed tunables to the running node (the {@code dev.meshwork.node} keys other than
     * {@code id} and {@code listen}) without dropping a link. Most are read where they are used
     * (timeouts, limits, backoff, thresholds); the rest are applied here: rate limiters start
     * afresh at the new budget, failure detectors of open channels relearn with the new ping
     * intervals and pause, a larger standby count dials more channels, and a change of the trusted
     * key set retries refused peers at once and closes links whose key is no longer trusted. The
     * dedup window and capacity stay those the node started with.
     */
    public synchronized void updateSettings(RouterSettings next) {
        RouterSettings previous = settings;
        settings = next;
        long now = nanoTime.getAsLong();
        count("settingsUpdates");
        boolean detectors = !previous.pingInterval().equals(next.pingInterval())
                || !previous.standbyPingInterval().equals(next.standbyPingInterval())
                || !previous.acceptablePause().equals(next.acceptablePause());
        boolean trust = !previous.trustedKeys().equals(next.trustedKeys());
        for (Link link : List.copyOf(links.values())) {
            if (previous.rateBudget() != next.rateBudget()) {
                link.limiter = new RateLimiter(next.rateBudget(), now);
            }
            if (detectors) {
                for (Channel ch : link.channels) {
                    if (ch.isOpen()) {
                        ch.detector = newDetector(ch == link.active ? next.pingInterval() : next.standbyPingInterval(), now);
                    }
                }
            }
            if (trust && link.pinnedKey != null && (link.config == null || link.config.publicKey().isEmpty())
                    && !this.trust.stillTrusted(link.node, link.pinnedKey, Optional.empty(), next.trustedKeys())) {
                for (Channel ch : List.copyOf(link.channels)) {
                    if (ch.isOpen()) {
                        closeChannel(ch, Goodbye.Code.UNTRUSTED, "key of " + link.node + " is no longer trusted");
                    }
                }
                continue;
            }
            if (trust) {
                retryNow(link);
            }
            ensureDials(link);
        }
    }

    // ---------------------------------------------------------------- transports and listeners

    /**
     * A transport appeared for {@code schemes}; peers waiting for one are dialed, and channels of
     * those schemes that failed or back off (their transport went away under them, e.g. its bundle
     * restarted) are dialed at once rather than at their backoff's pace.
     */
    public void addTransport(Transport transport, List<String> schemes) {
        synchronized (this) {
            Set<String> lower = new HashSet<>();
            for (String s : schemes) {
                transports.put(s.toLowerCase(), transport);
                lower.add(s.toLowerCase());
            }
            for (Link link : links.values()) {
                if (redialWaiting(link, ch -> lower.contains(String.valueOf(ch.uri.getScheme()).toLowerCase()))) {
                    count("retriesOnNewTransport");
                }
                ensureDials(link);
            }
        }
    }

    /**
     * The transport went away: its listeners closed with it.
     *
     * @return the URLs that were asked to be listened on with it, to listen on again once a
     *         transport for their scheme returns
     */
    public synchronized List<URI> removeTransport(Transport transport) {
        transports.values().removeIf(t -> t == transport);
        List<URI> lost = new ArrayList<>();
        listens.removeIf(l -> {
            if (l.transport() != transport) {
                return false;
            }
            lost.add(l.requested());
            return true;
        });
        return lost;
    }

    /** One listen: what was asked for, with which transport, and what it bound. */
    private record Listen(URI requested, Transport transport, TransportListener listener) {
    }

    public boolean hasTransport(String scheme) {
        return transports.containsKey(scheme.toLowerCase());
    }

    /**
     * Listens on {@code uri} with the transport for its scheme.
     *
     * @return completes with the bound URL; fails with the transport's typed failure or
     *         {@code UNSUPPORTED_SCHEME}
     */
    public CompletableFuture<URI> listen(URI uri) {
        Transport transport = transports.get(String.valueOf(uri.getScheme()).toLowerCase());
        if (transport == null) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNSUPPORTED_SCHEME,
                    "no transport for " + uri.getScheme() + " to listen on " + uri));
        }
        return transport.listen(uri, this::accept).thenApply(l -> {
            listens.add(new Listen(uri, transport, l));
            return l.uri();
        });
    }

    /** The handler of a connection refused before its handshake: it reads nothing. */
    private static final ConnectionHandler REFUSED = new ConnectionHandler() {
        @Override
        public void onMessage(Connection connection, byte[] message) {
        }

        @Override
        public void onClosed(Connection connection, CloseReason reason) {
        }
    };

    private ConnectionHandler accept(Connection connection) {
        synchronized (this) {
            if (closed) {
                return null;
            }
            StrangerGate.Admission admission = strangers.admit(connection.remoteAddress() == null ? null
                    : connection.remoteAddress().getAddress());
            if (!admission.admitted()) {
                count(admission.counter());
                count("refusals");
                if (badInputLog.tryAcquire(nanoTime.getAsLong())) {
                    LOG.info("refusing connection from {} on {}: {}", remote(connection), connection.uri(),
                            admission.refusal());
                }
                connection.close(CloseReason.POLICY_VIOLATION, admission.refusal());
                return REFUSED;
            }
            HandshakeSession session = HandshakeSession.accepting(sessionHost, certificate, connection,
                    WireConstants.DEFAULT_MAX_FRAME_BYTES, admission.ticket());
            session.begin(connection, handshakeTimeout(session));
            return session;
        }
    }

    // ---------------------------------------------------------------- whiteboard

    public void addHandler(MessageHandler handler, List<String> topics) {
        for (String t : topics) {
            handlers.computeIfAbsent(t, k -> new CopyOnWriteArrayList<>()).add(handler);
        }
    }

    public void removeHandler(MessageHandler handler) {
        handlers.values().forEach(l -> l.remove(handler));
    }

    public void addListener(PeerListener listener) {
        listeners.add(listener);
    }

    public void removeListener(PeerListener listener) {
        listeners.remove(listener);
    }

    // ---------------------------------------------------------------- Router

    @Override
    public NodeId localNode() {
        return identity.nodeId();
    }

    @Override
    public List<URI> listenUris() {
        return listens.stream().map(l -> l.listener().uri()).toList();
    }

    @Override
    public synchronized Map<String, Long> counters() {
        return Map.copyOf(counters);
    }

    @Override
    public synchronized List<PeerInfo> peers() {
        return links.values().stream().map(this::info).toList();
    }

    @Override
    public synchronized Optional<PeerInfo> peer(NodeId node) {
        return Optional.ofNullable(links.get(node)).map(this::info);
    }

    @Override
    public synchronized void addPeer(PeerConfig peer) {
        if (peer.node().equals(identity.nodeId())) {
            throw new IllegalArgumentException("peer " + peer.name() + " has this node's own id " + peer.node());
        }
        PublicKey key = peer.publicKey().map(Ed25519Identity::parsePublicKey).orElse(null);
        for (URI u : peer.urls()) {
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException("peer " + peer.name() + ": malformed URL " + u);
            }
        }
        Link link = links.get(peer.node());
        if (link == null) {
            link = new Link(peer.node(), peer, wall.instant());
            link.limiter = new RateLimiter(settings.rateBudget(), nanoTime.getAsLong());
            links.put(peer.node(), link);
        } else {
            link.config = peer;
            // drop outbound channels whose URL is gone
            for (Channel c : List.copyOf(link.outbound())) {
                if (!peer.urls().contains(c.uri)) {
                    closeChannel(c, Goodbye.Code.REMOVED, "URL removed from configuration");
                    link.channels.remove(c);
                }
            }
        }
        link.pinnedKey = key;
        for (URI u : peer.urls()) {
            Link l = link;
            if (link.outbound().stream().noneMatch(c -> c.uri.equals(u))) {
                l.channels.add(new Channel(l, u, false));
            }
        }
        retryNow(link);
        ensureDials(link);
    }

    /**
     * The peer's configuration was (re)applied: whatever made its channels wait (a refused key, a
     * URL that did not answer) may be fixed, so channels in backoff or failed forget their
     * failures and dial at once instead of sitting out a long delay.
     */
    private void retryNow(Link link) {
        if (redialWaiting(link, ch -> true)) {
            count("retriesOnReconfiguration");
            if (link.state == LinkState.REFUSED) {
                setLinkState(link, LinkState.CONNECTING, "reconfigured");
            }
        }
    }

    /** Forgets the failures of the link's failed or backing-off channels that {@code which} picks and dials them now. */
    private boolean redialWaiting(Link link, java.util.function.Predicate<Channel> which) {
        boolean any = false;
        for (Channel ch : link.outbound()) {
            if ((ch.state == ChannelState.BACKOFF || ch.state == ChannelState.FAILED) && which.test(ch)) {
                ch.failures = 0;
                ch.identicalPermanent = 0;
                ch.lastPermanent = null;
                any = true;
                dial(ch);
            }
        }
        return any;
    }

    @Override
    public boolean removePeer(NodeId node) {
        return removePeer(node, false);
    }

    /**
     * Removes a peer; its held messages fail <em>retryable</em> either way, so a durable sender
     * never takes the removal for the message's fault: {@code SHUT_DOWN} when {@code stopping}
     * (the node or the router's bundle is going down), {@code UNKNOWN_PEER} when its
     * configuration was deleted while the node runs (it may come back).
     */
    public synchronized boolean removePeer(NodeId node, boolean stopping) {
        Link link = links.remove(node);
        if (link == null) {
            return false;
        }
        for (Channel c : List.copyOf(link.channels)) {
            closeChannel(c, Goodbye.Code.REMOVED, "peer removed");
        }
        if (link.staggerTimer != null) {
            link.staggerTimer.cancel(false);
        }
        setLinkState(link, LinkState.REMOVED, "removed");
        claims.forget(node);
        for (Pending p : allHeld(link)) {
            fail(p, stopping ? new RetryableException(FailureCode.SHUT_DOWN, "node stopping: peer " + node + " was removed")
                    : new RetryableException(FailureCode.UNKNOWN_PEER, "peer " + node + " was removed"));
        }
        broadcastNeighbours();
        return true;
    }

    @Override
    public synchronized WorkToken beginWork(NodeId peer) {
        Link link = links.get(peer);
        if (link == null) {
            throw new IllegalArgumentException("unknown peer " + peer);
        }
        link.workTokens++;
        return new WorkToken() {
            private boolean done;

            @Override
            public void close() {
                synchronized (MeshCore.this) {
                    if (!done) {
                        done = true;
                        link.workTokens--;
                    }
                }
            }
        };
    }

    @Override
    public CompletableFuture<DeliveryResult> send(NodeId target, String topic, byte[] payload, SendOptions options) {
        if (target == null || topic == null || payload == null || options == null) {
            throw new IllegalArgumentException("send: null argument");
        }
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("send: empty topic");
        }
        String id = options.messageId().orElseGet(() -> UUID.randomUUID().toString());
        long start = nanoTime.getAsLong();
        CompletableFuture<DeliveryResult> future = new CompletableFuture<>();
        if (payload.length > settings.maxPayloadBytes()) {
            count("refused.payloadTooLarge.out");
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.PAYLOAD_TOO_LARGE,
                    "payload of " + payload.length + " bytes exceeds " + settings.maxPayloadBytes()));
        }
        InboundLimits.Breach breach = settings.limits().check(id, topic, options.headers());
        if (breach != null) {
            count(breach.counter() + ".out");
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.PAYLOAD_TOO_LARGE, breach.reason()));
        }
        if (target.equals(identity.nodeId())) {
            InboundMessage local = new InboundMessage(id, target, topic, payload, options.headers(), Optional.empty(),
                    wall.instant());
            return deliverLocally(local).thenApply(v -> new DeliveryResult(id, target,
                    Route.direct(URI.create("local:" + target)), options.ackRequired(),
                    Duration.ofNanos(nanoTime.getAsLong() - start)));
        }
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.SHUT_DOWN, "router stopped"));
            }
            Link link = links.get(target);
            if (link == null) {
                if (relayFor(target) == null) {
                    boolean known = claims.claimed(target);
                    return CompletableFuture.failedFuture(known
                            ? new RetryableException(FailureCode.UNREACHABLE_PEER, "no route to " + target)
                            : new PermanentException(FailureCode.UNKNOWN_PEER, "unknown peer " + target));
                }
                link = new Link(target, null, wall.instant());
                link.limiter = new RateLimiter(settings.rateBudget(), start);
                links.put(target, link);
                reviewRelayRoute(link);
            }
            if (link.held() >= settings.queueLimit() || link.queuedBytes + payload.length > settings.queueBytes()) {
                count("dropped.queueFull");
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.QUEUE_FULL,
                        "send queue of " + target + " is full (" + link.held() + " messages, " + link.queuedBytes + " bytes)"));
            }
            if (pendingById.containsKey(id)) {
                return CompletableFuture.failedFuture(new PermanentException(FailureCode.IDEMPOTENCY_CONFLICT,
                        "message " + id + " is already being sent"));
            }
            Envelope envelope = Envelope.newBuilder().setMessageId(id).setSource(identity.nodeId().value())
                    .setTarget(target.value()).setTopic(topic).setPayload(ByteString.copyFrom(payload))
                    .setHopLimit(options.hopLimit()).setAckRequested(options.ackRequired())
                    .setSourceIncarnation(identity.incarnation())
                    .setExpiresAtMillis(wall.instant().plus(options.timeout()).toEpochMilli())
                    .putAllHeaders(options.headers()).build();
            Pending p = new Pending(envelope, target, options.ackRequired(), start, future, link);
            link.queue.put(id, p);
            link.queuedBytes += p.bytes();
            pendingById.put(id, p);
            p.timer = scheduler.schedule(() -> expire(p), options.timeout().toNanos(), TimeUnit.NANOSECONDS);
            flush(link);
        }
        return future;
    }

    @Override
    public CompletableFuture<Void> deliverLocally(InboundMessage message) {
        List<MessageHandler> hs = handlers.getOrDefault(message.topic(), List.of());
        if (hs.isEmpty()) {
            synchronized (this) {
                count("refused.unknownTopic");
            }
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNKNOWN_TOPIC,
                    "no handler for topic " + message.topic()));
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        inboundOrder.computeIfAbsent(message.source(), k -> new SerialExecutor(callbacks)).execute(() -> {
            List<CompletableFuture<Void>> stages = new ArrayList<>();
            for (MessageHandler h : hs) {
                try {
                    CompletionStage<Void> stage = h.onMessage(message);
                    stages.add(stage == null ? CompletableFuture.completedFuture(null) : stage.toCompletableFuture());
                } catch (Exception | Error e) {
                    stages.add(CompletableFuture.failedFuture(e));
                }
            }
            CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
                if (e == null) {
                    done.complete(null);
                } else {
                    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause() : e;
                    done.completeExceptionally(cause instanceof MeshworkException ? cause
                            : new RetryableException(FailureCode.HANDLER_FAILED, "handler failed: " + cause, cause));
                }
            });
        });
        return done;
    }

    /**
     * Stops: Goodbye on every channel, every held message fails with {@code SHUT_DOWN}.
     *
     * @return completes when every listener released its address, so a restarted router can bind
     *         it again (a DS re-activation on a configuration change does at once)
     */
    public CompletableFuture<Void> close() {
        List<TransportListener> ls;
        synchronized (this) {
            if (closed) {
                return CompletableFuture.completedFuture(null);
            }
            closed = true;
            if (ticker != null) {
                ticker.cancel(false);
            }
            for (Link link : links.values()) {
                for (Channel c : List.copyOf(link.channels)) {
                    closeChannel(c, Goodbye.Code.SHUTDOWN, "node stopping");
                }
                for (Pending p : allHeld(link)) {
                    fail(p, new RetryableException(FailureCode.SHUT_DOWN, "router stopped"));
                }
            }
            ls = listens.stream().map(Listen::listener).toList();
        }
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (TransportListener l : ls) {
            try {
                closing.add(l.closeAsync().exceptionally(e -> {
                    LOG.debug("closing listener {}: {}", l.uri(), e.toString());
                    return null;
                }));
            } catch (RuntimeException e) {
                LOG.debug("closing listener {}: {}", l.uri(), e.toString());
            }
        }
        return CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new));
    }

    // ---------------------------------------------------------------- dialing and backoff

    /** Starts dials so the link has an active channel plus its standbys, Happy-Eyeballs paced. */
    private void ensureDials(Link link) {
        if (closed || link.config == null || link.state == LinkState.REMOVED) {
            return;
        }
        long now = nanoTime.getAsLong();
        List<Channel> out = link.outbound();
        int wanted = Math.min(out.size(), 1 + settings.standbyCount());
        long inUse = out.stream().filter(c -> c.state != ChannelState.IDLE && c.state != ChannelState.CLOSED).count();
        Channel next = out.stream().filter(c -> c.state == ChannelState.IDLE).findFirst().orElse(null);
        if (inUse >= wanted || next == null) {
            return;
        }
        boolean attempting = out.stream().anyMatch(c -> c.state == ChannelState.CONNECTING
                || c.state == ChannelState.AUTHENTICATING);
        long due = link.lastDialStart == Long.MIN_VALUE ? now : link.lastDialStart + settings.dialStagger().toNanos();
        if (!attempting || now >= due) {
            link.lastDialStart = now;
            dial(next);
            ensureDials(link);
        } else if (link.staggerTimer == null || link.staggerTimer.isDone()) {
            link.staggerTimer = scheduler.schedule(() -> {
                synchronized (MeshCore.this) {
                    link.staggerTimer = null;
                    ensureDials(link);
                }
            }, due - now, TimeUnit.NANOSECONDS);
        }
    }

    private void dial(Channel ch) {
        ch.cancelTimer();
        if (closed || ch.state == ChannelState.CLOSED) {
            return;
        }
        if (ch.state == ChannelState.CONNECTING || ch.state == ChannelState.AUTHENTICATING || ch.state == ChannelState.OPEN) {
            return;
        }
        Transport transport = transports.get(String.valueOf(ch.uri.getScheme()).toLowerCase());
        ch.moveTo(ChannelState.CONNECTING);
        int generation = ++ch.generation;
        if (transport == null) {
            dialFailed(ch, new PermanentException(FailureCode.UNSUPPORTED_SCHEME, "no transport for " + ch.uri.getScheme()));
            return;
        }
        HandshakeSession session = HandshakeSession.dialing(sessionHost, certificate, ch,
                WireConstants.DEFAULT_MAX_FRAME_BYTES);
        DialOptions options = DialOptions.DEFAULT.withHandshakeTimeout(settings.helloTimeout());
        CompletableFuture<Connection> f;
        try {
            f = transport.dial(ch.uri, options, session);
        } catch (RuntimeException e) {
            dialFailed(ch, e);
            return;
        }
        ch.dialing = f;
        f.whenComplete((conn, error) -> {
            synchronized (MeshCore.this) {
                if (ch.generation != generation || ch.state != ChannelState.CONNECTING || closed) {
                    if (conn != null) {
                        conn.close(CloseReason.NORMAL, "superseded");
                    }
                    return;
                }
                ch.dialing = null;
                if (error != null) {
                    dialFailed(ch, unwrap(error));
                    return;
                }
                session.connection = conn;
                ch.connection = conn;
                ch.session = session;
                ch.moveTo(ChannelState.AUTHENTICATING);
                if (session.state() == HandshakeSession.State.CLOSING) {
                    // the connection closed before the dial's completion ran
                    channelFailed(ch, new RetryableException(FailureCode.CONNECTION_RESET, "closed during the handshake"));
                    return;
                }
                session.begin(conn, handshakeTimeout(session));
            }
        });
    }

    private void dialFailed(Channel ch, Throwable error) {
        count("dial.failures");
        ensureDialsLater(ch.link);
        channelFailed(ch, error instanceof MeshworkException me ? me
                : new RetryableException(FailureCode.INTERNAL, String.valueOf(error), error));
    }

    private void ensureDialsLater(Link link) {
        // Happy Eyeballs: a failed attempt starts the next URL at once rather than after the stagger.
        link.lastDialStart = Long.MIN_VALUE;
        ensureDials(link);
    }

    /** A connect, hello or open channel failed: back off, or mark FAILED after N identical permanent failures. */
    private void channelFailed(Channel ch, MeshworkException failure) {
        ch.connection = null;
        ch.lastError = failure.code() + ": " + failure.getMessage();
        ch.failures++;
        if (!failure.isRetryable()) {
            ch.identicalPermanent = failure.code() == ch.lastPermanent ? ch.identicalPermanent + 1 : 1;
            ch.lastPermanent = failure.code();
        } else {
            ch.identicalPermanent = 0;
            ch.lastPermanent = null;
        }
        if (ch.inbound) {
            ch.moveTo(ChannelState.CLOSED);
            ch.link.channels.remove(ch);
            return;
        }
        if (failure.code() == FailureCode.SELF_CONNECTION) {
            ch.moveTo(ChannelState.CLOSED);
            count("refused.selfConnection");
            return;
        }
        // A refused key is not parked for slowRetry: the refusing side may learn our key any
        // moment (its peer configuration arrives asynchronously), so it keeps the regular jittered,
        // capped backoff; a configuration change of the peer retries at once (retryNow).
        boolean parks = failure.code() != FailureCode.UNTRUSTED;
        if (!failure.isRetryable() && parks && ch.identicalPermanent >= settings.permanentFailureLimit()) {
            scheduleRetry(ch, ChannelState.FAILED, settings.slowRetry().toNanos());
        } else {
            int attempt = Math.min(ch.failures - 1, 30);
            scheduleRetry(ch, ChannelState.BACKOFF, settings.backoff().delay(attempt, random.getAsDouble()).toNanos());
        }
    }

    private void scheduleRetry(Channel ch, ChannelState state, long delayNanos) {
        ch.moveTo(state);
        ch.cancelTimer();
        ch.nextAttemptNanos = nanoTime.getAsLong() + delayNanos;
        ch.nextAttemptAt = wall.instant().plusNanos(delayNanos);
        ch.timer = scheduler.schedule(() -> {
            synchronized (MeshCore.this) {
                if (ch.state == state) {
                    count("reconnects");
                    ch.link.count("reconnects");
                    dial(ch);
                }
            }
        }, delayNanos, TimeUnit.NANOSECONDS);
    }

    // ---------------------------------------------------------------- ticker: pings, liveness, wake

    private void tick() {
        synchronized (this) {
            if (closed) {
                return;
            }
            long now = nanoTime.getAsLong();
            Instant w = wall.instant();
            long monoDelta = now - lastTickNanos;
            long wallDelta = Duration.between(lastTickWall, w).toNanos();
            lastTickNanos = now;
            lastTickWall = w;
            if (Math.abs(wallDelta - monoDelta) > settings.clockJumpThreshold().toNanos()) {
                onClockJump(Duration.ofNanos(wallDelta - monoDelta));
            }
            for (Link link : List.copyOf(links.values())) {
                probeUnusedUrls(link, now);
                for (Channel ch : List.copyOf(link.channels)) {
                    if (!ch.isOpen()) {
                        continue;
                    }
                    boolean active = ch == link.active;
                    long interval = (active ? settings.pingInterval() : settings.standbyPingInterval()).toNanos();
                    if (now - ch.lastPingSent >= interval) {
                        ch.lastPingSent = now;
                        write(ch, Frame.newBuilder().setPing(Ping.newBuilder().setId(++ch.pingSeq).setSentNanos(now)).build());
                    }
                    double phi = ch.detector.phi(now);
                    if (phi > settings.phiThreshold()) {
                        long silentMs = (now - ch.detector.lastAlive()) / 1_000_000;
                        count("stale");
                        LOG.info("channel {} to {} silent for {} ms (phi {}): closing", ch.uri, link.node, silentMs,
                                String.format("%.1f", phi));
                        Connection c = ch.connection;
                        channelDown(ch, new RetryableException(FailureCode.TIMEOUT, "silent for " + silentMs + " ms"));
                        c.close(CloseReason.GOING_AWAY, "stale");
                    }
                }
            }
        }
    }

    /**
     * Every 30 standby intervals, dials one URL the link does not use, so a better route is
     * found; once the probe had time to win the hysteresis, the slowest surplus standby is closed
     * again, so a link keeps {@code 1 + standbyCount} channels.
     */
    private void probeUnusedUrls(Link link, long now) {
        if (link.config == null || link.state != LinkState.UP) {
            return;
        }
        List<Channel> out = link.outbound();
        int wanted = Math.min(out.size(), 1 + settings.standbyCount());
        long settle = settings.standbyPingInterval().toNanos() * (settings.switchSamples() + 2);
        List<Channel> open = out.stream().filter(Channel::isOpen).toList();
        if (open.size() > wanted && open.stream().allMatch(c -> now - c.openedAt >= settle)) {
            Channel worst = open.stream().filter(c -> c != link.active)
                    .max(Comparator.comparingDouble(c -> c.srttNanos < 0 ? Double.MAX_VALUE : c.srttNanos)).orElse(null);
            if (worst != null) {
                Connection c = worst.connection;
                write(worst, Frame.newBuilder().setGoodbye(Goodbye.newBuilder().setCode(Goodbye.Code.DUPLICATE_CHANNEL)
                        .setReason("surplus channel after a route probe")).build());
                channelDown(worst, new RetryableException(FailureCode.CLOSED, "surplus channel after a route probe"));
                worst.cancelTimer();
                worst.moveTo(ChannelState.CLOSED);
                Channel fresh = new Channel(link, worst.uri, false);
                fresh.lastProbedAt = now;
                link.channels.set(link.channels.indexOf(worst), fresh);
                c.close(CloseReason.NORMAL, "surplus channel");
            }
            return;
        }
        if (now - link.lastProbe < settings.standbyPingInterval().toNanos() * 30) {
            return;
        }
        link.lastProbe = now;
        out.stream().filter(c -> c.state == ChannelState.IDLE).min(Comparator.comparingLong(c -> c.lastProbedAt))
                .ifPresent(c -> {
                    c.lastProbedAt = now;
                    count("routeProbes");
                    dial(c);
                });
    }

    /** Wake from sleep: channels waiting in backoff dial again now instead of after their long delays. */
    private void onClockJump(Duration jump) {
        count("clockJumps");
        LOG.info("wall clock moved {} against the monotonic clock: resetting reconnect backoff", jump);
        for (Link link : links.values()) {
            for (Channel ch : link.outbound()) {
                if (ch.state == ChannelState.BACKOFF) {
                    ch.failures = 0;
                    scheduleRetry(ch, ChannelState.BACKOFF,
                            settings.backoff().delay(0, random.getAsDouble()).toNanos());
                }
            }
        }
    }

    // ---------------------------------------------------------------- channel up / down, failover

    private void channelUp(Channel ch, String incarnation, Connection conn) {
        Link link = ch.link;
        long now = nanoTime.getAsLong();
        ch.moveTo(ChannelState.OPEN);
        ch.openedAt = now;
        ch.connection = conn;
        ch.failures = 0;
        ch.identicalPermanent = 0;
        ch.lastPermanent = null;
        ch.lastError = null;
        ch.peerIncarnation = incarnation;
        ch.detector = newDetector(settings.standbyPingInterval(), now);
        ch.lastPingSent = Long.MIN_VALUE / 2;
        if (link.incarnation != null && !link.incarnation.equals(incarnation)) {
            peerRestarted(link, incarnation);
        }
        link.incarnation = incarnation;
        // the peer's neighbours arrive in its first protected frame (a Neighbours frame)
        emit(PeerEvent.Type.CHANNEL_UP, link, ch + " open");
        if (link.active == null) {
            setActive(link, ch, "first channel open");
        }
        if (link.state != LinkState.UP) {
            setLinkState(link, LinkState.UP, ch.uri.toString());
            boolean relayed = link.reported != null && link.reported.kind() == Route.Kind.RELAY;
            link.reported = Route.direct(ch.uri);
            // a peer already reachable through a relay is not new: its route changed
            emit(relayed ? PeerEvent.Type.ROUTE_CHANGED : PeerEvent.Type.PEER_UP, link, "via " + ch.uri);
            broadcastNeighbours();
        }
        ensureDials(link);
        flush(link);
    }

    private PhiAccrualDetector newDetector(Duration interval, long now) {
        return new PhiAccrualDetector(interval.toNanos(), settings.minStdDeviation().toNanos(),
                settings.acceptablePause().toNanos(), now);
    }

    private void peerRestarted(Link link, String incarnation) {
        count("peerRestarts");
        link.count("restarts");
        for (Channel c : List.copyOf(link.channels)) {
            if (c.isOpen() && !incarnation.equals(c.peerIncarnation)) {
                Connection conn = c.connection;
                channelDown(c, new RetryableException(FailureCode.CONNECTION_RESET, "peer restarted"));
                conn.close(CloseReason.NORMAL, "peer restarted");
            }
        }
        received.removePrefix(link.node.value() + "/");
        claims.forget(link.node);
        requeueInflight(link, null);
        emit(PeerEvent.Type.PEER_RESTARTED, link, "new incarnation " + incarnation);
    }

    /** A channel was lost (closed, failed, stale): fail over at once and re-send what it carried. */
    private void channelDown(Channel ch, MeshworkException why) {
        Link link = ch.link;
        boolean wasOpen = ch.state == ChannelState.OPEN;
        ch.bytesIn += ch.connection != null ? ch.connection.stats().bytesIn() : 0;
        ch.bytesOut += ch.connection != null ? ch.connection.stats().bytesOut() : 0;
        channelFailed(ch, why);
        if (!wasOpen) {
            return;
        }
        emit(PeerEvent.Type.CHANNEL_DOWN, link, ch.uri + ": " + why.getMessage());
        for (Link l : links.values()) {
            requeueInflight(l, ch);
        }
        if (link.active == ch) {
            Channel best = bestOpen(link);
            link.active = null;
            if (best != null) {
                count("failovers");
                link.count("failovers");
                setActive(link, best, "failover from " + ch.uri + " (" + why.getMessage() + ")");
            } else {
                setLinkState(link, LinkState.DOWN, why.getMessage());
                Link via = relayFor(link.node);
                if (via != null) {
                    link.reported = Route.relay(via.node);
                    emit(PeerEvent.Type.ROUTE_CHANGED, link, "direct link lost (" + why.getMessage() + "), relayed via "
                            + via.node);
                } else {
                    link.reported = Route.UNREACHABLE;
                    emit(PeerEvent.Type.PEER_DOWN, link, why.getMessage());
                }
                broadcastNeighbours();
            }
        }
        reviewRelayRoutes();
        for (Link l : List.copyOf(links.values())) {
            flush(l);
        }
    }

    /**
     * Tells PeerListeners about relay routes, as {@link PeerEvent.Type} promises: a peer without an
     * open channel of its own that becomes reachable through a neighbour is PEER_UP, a change of
     * that neighbour is ROUTE_CHANGED, the loss of the last route is PEER_DOWN. Only for peers this
     * node has a link to (configured, learnt, or sent to); gossip alone does not create peers.
     */
    private void reviewRelayRoutes() {
        for (Link link : List.copyOf(links.values())) {
            reviewRelayRoute(link);
        }
    }

    private void reviewRelayRoute(Link link) {
        if (link.state == LinkState.REMOVED || link.channels.stream().anyMatch(Channel::isOpen)) {
            return; // the direct channels report for themselves (channelUp, channelDown)
        }
        Link via = relayFor(link.node);
        Route now = via == null ? Route.UNREACHABLE : Route.relay(via.node);
        Route before = link.reported;
        boolean wasReachable = before != null && before.kind() != Route.Kind.UNREACHABLE;
        if (now.equals(before) || (before == null && via == null)) {
            return;
        }
        link.reported = now;
        if (via != null && !wasReachable) {
            emit(PeerEvent.Type.PEER_UP, link, "relayed via " + via.node);
        } else if (via != null) {
            emit(PeerEvent.Type.ROUTE_CHANGED, link, "relayed via " + via.node);
        } else if (wasReachable) {
            emit(PeerEvent.Type.PEER_DOWN, link, "no direct channel and no relay reaches it");
        }
    }

    private void setActive(Link link, Channel ch, String why) {
        Channel previous = link.active;
        if (previous != null && previous != ch && previous.isOpen()) {
            // demoted to standby: pinged slowly from now on, so learn that cadence afresh
            previous.detector = newDetector(settings.standbyPingInterval(), nanoTime.getAsLong());
        }
        link.active = ch;
        for (Channel c : link.channels) {
            c.betterSamples = 0;
        }
        // The new active channel is pinged fast from now on: learn that cadence afresh.
        ch.detector = newDetector(settings.pingInterval(), nanoTime.getAsLong());
        ch.lastPingSent = Long.MIN_VALUE / 2;
        emit(PeerEvent.Type.ACTIVE_CHANNEL_CHANGED, link, ch.uri + ": " + why);
    }

    private Channel bestOpen(Link link) {
        return link.channels.stream().filter(Channel::isOpen)
                .min(Comparator.comparingDouble(c -> c.srttNanos < 0 ? Double.MAX_VALUE : c.srttNanos)).orElse(null);
    }

    /** An RTT sample arrived: maybe switch to a clearly better channel (hysteresis). */
    private void onRtt(Channel ch, long sampleNanos) {
        ch.rttSample(sampleNanos);
        Link link = ch.link;
        Channel active = link.active;
        if (active == null || active == ch || !ch.isOpen() || active.srttNanos < 0) {
            return;
        }
        // on a LAN or loopback both RTTs are a fraction of a millisecond and their ratio is noise:
        // a switch must also gain a couple of milliseconds (found by the failover benchmark)
        if (ch.srttNanos <= settings.switchRatio() * active.srttNanos
                && active.srttNanos - ch.srttNanos >= MIN_SWITCH_GAIN_NANOS) {
            ch.betterSamples++;
        } else {
            ch.betterSamples = 0;
        }
        if (ch.betterSamples >= settings.switchSamples() && !link.workInFlight()) {
            count("routeSwitches");
            link.count("routeSwitches");
            setActive(link, ch, String.format("RTT %.1f ms vs %.1f ms", ch.srttNanos / 1e6, active.srttNanos / 1e6));
            flush(link);
        }
    }

    private void requeueInflight(Link link, Channel onlyWrittenOn) {
        LinkedHashMap<String, Pending> back = new LinkedHashMap<>();
        for (Pending p : link.inflight.values()) {
            if (onlyWrittenOn == null || p.writtenOn == onlyWrittenOn) {
                back.put(p.id(), p);
            }
        }
        if (back.isEmpty()) {
            return;
        }
        link.inflight.keySet().removeAll(back.keySet());
        back.putAll(link.queue);
        link.queue.clear();
        link.queue.putAll(back);
        count("resent");
        link.counters.merge("resent", (long) back.size(), Long::sum);
    }

    // ---------------------------------------------------------------- sending

    private Channel routeChannel(Link link) {
        if (link.active != null && link.active.isOpen()) {
            return link.active;
        }
        Link via = relayFor(link.node);
        return via == null ? null : via.active;
    }

    /** A peer with an open active channel that claims {@code target} as its direct neighbour, chosen by {@link NeighbourClaims}. */
    private Link relayFor(NodeId target) {
        NodeId via = claims.choose(target, n -> {
            Link l = links.get(n);
            return l != null && l.active != null && l.active.isOpen();
        }, nanoTime.getAsLong());
        return via == null ? null : links.get(via);
    }

    private void flush(Link link) {
        Channel ch = routeChannel(link);
        if (ch == null) {
            return;
        }
        boolean relayed = ch.link != link;
        while (!link.queue.isEmpty()) {
            var it = link.queue.entrySet().iterator();
            Pending p = it.next().getValue();
            if (relayed && p.sealed == null) {
                signAhead(link);
                return; // in send order: the rest waits for this one's signature
            }
            it.remove();
            link.inflight.put(p.id(), p);
            p.writtenOn = ch;
            p.everWritten = true;
            CompletableFuture<Void> w = write(ch, Frame.newBuilder().setEnvelope(relayed ? p.sealed : p.envelope).build());
            w.whenComplete((v, e) -> {
                synchronized (MeshCore.this) {
                    if (p.future.isDone()) {
                        return;
                    }
                    if (e != null) {
                        // the channel's close moves it back to the queue; a refused write does now
                        MeshworkException me = unwrap(e) instanceof MeshworkException x ? x : null;
                        if (me != null && me.code() == FailureCode.PAYLOAD_TOO_LARGE) {
                            fail(p, me);
                        }
                        return;
                    }
                    if (!p.ackRequired) {
                        succeed(p, false);
                    }
                }
            });
        }
    }

    /**
     * Signs the queued messages of a link that now goes through a relay, in send order, one at a
     * time off the lock (an Ed25519 signature takes about a millisecond on JDK 17: signing a full
     * queue under the lock would hold up pings and trip the liveness detector); each signed message
     * flushes the link again.
     */
    private void signAhead(Link link) {
        for (Pending q : link.queue.values()) {
            if (q.sealed != null || q.signing) {
                continue;
            }
            q.signing = true;
            signing.execute(() -> {
                Envelope sealed;
                try {
                    sealed = auth.seal(q.envelope);
                } catch (RuntimeException e) {
                    synchronized (MeshCore.this) {
                        q.signing = false;
                        count("e2e.signFailures");
                        LOG.warn("cannot sign message {} for the relay: {}", q.id(), e.toString());
                        fail(q, new RetryableException(FailureCode.INTERNAL, "signing failed: " + e, e));
                    }
                    return;
                }
                synchronized (MeshCore.this) {
                    q.sealed = sealed;
                    q.signing = false;
                    count("e2e.signed");
                    if (!q.future.isDone() && !closed) {
                        flush(q.link);
                    }
                }
            });
        }
    }

    private CompletableFuture<Void> write(Channel ch, Frame frame) {
        HandshakeSession session = ch.session;
        if (ch.connection == null || session == null) {
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.CLOSED, "no connection"));
        }
        try {
            return session.send(frame);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void succeed(Pending p, boolean acked) {
        release(p);
        Route route = p.writtenOn == null ? Route.UNREACHABLE
                : p.writtenOn.link == p.link ? Route.direct(p.writtenOn.uri) : Route.relay(p.writtenOn.link.node);
        DeliveryResult result = new DeliveryResult(p.id(), p.target, route, acked,
                Duration.ofNanos(nanoTime.getAsLong() - p.startNanos));
        callbacks.execute(() -> p.future.complete(result));
    }

    private void fail(Pending p, MeshworkException e) {
        release(p);
        callbacks.execute(() -> p.future.completeExceptionally(e));
    }

    private void release(Pending p) {
        if (p.timer != null) {
            p.timer.cancel(false);
        }
        Link link = p.link;
        if (link.queue.remove(p.id()) != null || link.inflight.remove(p.id()) != null) {
            link.queuedBytes -= p.bytes();
        }
        pendingById.remove(p.id(), p);
    }

    private void expire(Pending p) {
        synchronized (this) {
            if (p.future.isDone() || pendingById.get(p.id()) != p) {
                return;
            }
            boolean written = p.everWritten;
            count(written ? "dropped.ackTimeout" : "dropped.expired");
            if (written && p.writtenOn != null && p.writtenOn.link != p.link) {
                claims.failed(p.target, p.writtenOn.link.node, nanoTime.getAsLong());
                count("relay.timeouts");
            }
            fail(p, new RetryableException(written ? FailureCode.TIMEOUT : FailureCode.EXPIRED, written
                    ? "no ack from " + p.target + " within the timeout"
                    : "not delivered to " + p.target + " within the timeout (" + info(p.link).route() + ")"));
        }
    }

    private List<Pending> allHeld(Link link) {
        List<Pending> all = new ArrayList<>(link.inflight.values());
        all.addAll(link.queue.values());
        return all;
    }

    // ---------------------------------------------------------------- receiving

    private void onAuthenticatedFrame(Channel ch, Frame frame) {
        Link link = ch.link;
        long now = nanoTime.getAsLong();
        if (ch.detector != null) {
            ch.detector.alive(now);
        }
        if (!ch.isOpen()) {
            return;
        }
        if (link.incarnation != null && !link.incarnation.equals(ch.peerIncarnation)) {
            count("dropped.oldIncarnation");
            return;
        }
        switch (frame.getBodyCase()) {
            case PING -> write(ch, Frame.newBuilder().setPong(Pong.newBuilder().setId(frame.getPing().getId())
                    .setSentNanos(frame.getPing().getSentNanos())).build());
            case PONG -> {
                ch.detector.heartbeat(now);
                onRtt(ch, now - frame.getPong().getSentNanos());
            }
            case ENVELOPE -> onEnvelope(ch, frame.getEnvelope(), now);
            case ACK -> onAck(ch, frame.getAck());
            case NEIGHBOURS -> updateNeighbours(link, frame.getNeighbours().getNodeIdsList(),
                    frame.getNeighbours().getVersion());
            case GOODBYE -> onGoodbye(ch, frame.getGoodbye());
            case HELLO, HELLO_ACK -> protocolViolation(ch, "a second hello on an authenticated channel");
            case BODY_NOT_SET -> protocolViolation(ch, "a frame without a body");
        }
    }

    private void onEnvelope(Channel ch, Envelope env, long now) {
        Link from = ch.link;
        if (!from.limiter.tryAcquire(now)) {
            count("refused.rateLimited");
            from.count("refused.rateLimited");
            if (++from.rateRefusals >= RATE_REFUSALS_BEFORE_CLOSE) {
                from.rateRefusals = 0;
                closeChannel(ch, Goodbye.Code.RATE_LIMITED, "flooding: over " + settings.rateBudget() + " frames/s");
                return;
            }
            nack(ch, env, FailureCode.RATE_LIMITED, "over the budget of " + settings.rateBudget() + " frames/s", true);
            return;
        }
        from.rateRefusals = 0;
        act(ch, env, validator.check(env, from.node, from.incarnation), now);
    }

    private void act(Channel ch, Envelope env, InboundValidator.Verdict verdict, long now) {
        Link from = ch.link;
        if (verdict.counter() != null) {
            count(verdict.counter());
            from.count(verdict.counter());
            if (verdict.detail() != null) {
                count(verdict.detail());
            }
            if (verdict.reason() != null && verdict.action() != InboundValidator.Action.VIOLATION
                    && badInputLog.tryAcquire(now)) {
                LOG.info("{} a message from {}: {}", verdict.action() == InboundValidator.Action.DROP ? "dropping"
                        : "refusing", from.node, verdict.reason());
            }
        }
        switch (verdict.action()) {
            case VIOLATION -> protocolViolation(ch, verdict.reason());
            case NACK -> nack(ch, env, verdict.code(), verdict.reason(), false);
            case DROP -> { }
            case RELAY -> relay(ch, verdict.envelope(), NodeId.of(env.getTarget()));
            case ACCEPT -> deliver(ch, verdict.envelope(), now);
            case PROVE -> prove(ch, env);
        }
    }

    /**
     * Checks the origin's signature of an envelope whose source is not the link's peer, off the
     * lock (about a millisecond each on JDK 17: on the event loop under the lock, a burst of them
     * would hold up pongs and trip the liveness detector), then decides on it.
     */
    private void prove(Channel ch, Envelope env) {
        NodeId source = NodeId.of(env.getSource());
        EndToEndAuth.Key key = env.getSignedBody().isEmpty() || env.getOriginSignature().isEmpty()
                ? new EndToEndAuth.Key(null, false, EndToEndAuth.Refusal.UNSIGNED) : auth.key(source, env.getOriginKey());
        if (key.refusal() != null) {
            act(ch, env, unproven(ch, env, key.refusal()), nanoTime.getAsLong());
            return;
        }
        verifying.execute(() -> {
            EndToEndAuth.Opened opened = auth.open(env, key);
            synchronized (MeshCore.this) {
                if (closed || !ch.isOpen()) {
                    count("dropped.afterClose"); // its sender re-sends what was lost with the channel
                    return;
                }
                EndToEndAuth.Refusal refused = opened.refusal() != null ? opened.refusal()
                        : auth.bind(source, key) ? null : EndToEndAuth.Refusal.UNKNOWN_KEY;
                Link from = ch.link;
                act(ch, env, refused != null ? unproven(ch, env, refused)
                        : validator.proven(env, opened.envelope(), from.node, from.incarnation), nanoTime.getAsLong());
            }
        });
    }

    private static InboundValidator.Verdict unproven(Channel ch, Envelope env, EndToEndAuth.Refusal why) {
        return new InboundValidator.Verdict(InboundValidator.Action.DROP, null, "dropped.unprovenSource", why.counter,
                null, "message " + env.getMessageId() + " from " + ch.link.node + " claims source " + env.getSource()
                + ": " + why.counter);
    }

    /** An envelope for this node whose source is proven: deliver it once, and answer (signed for its origin when it came through a relay). */
    private void deliver(Channel ch, Envelope env, long now) {
        Link from = ch.link;
        NodeId source = NodeId.of(env.getSource());
        boolean relayedHere = !source.equals(from.node);
        String key = source.value() + "/" + env.getMessageId();
        Delivery known = received.get(key, now);
        if (known != null) {
            count("duplicatesDropped");
            known.replyTo = ch;
            if (known.ack != null) {
                write(ch, Frame.newBuilder().setAck(known.ack).build());
            }
            return;
        }
        if (handlers.getOrDefault(env.getTopic(), List.of()).isEmpty()) {
            count("refused.unknownTopic");
            nack(ch, env, FailureCode.UNKNOWN_TOPIC, "no handler for topic " + env.getTopic(), false);
            return;
        }
        Delivery delivery = new Delivery();
        delivery.replyTo = ch;
        received.add(key, delivery, now);
        count("delivered");
        InboundMessage msg = new InboundMessage(env.getMessageId(), source, env.getTopic(),
                env.getPayload().toByteArray(), env.getHeadersMap(),
                relayedHere ? Optional.of(from.node) : Optional.empty(), wall.instant());
        boolean wantsAck = env.getAckRequested();
        deliverLocally(msg).whenComplete((v, e) -> {
            Ack.Builder ack = Ack.newBuilder().setMessageId(env.getMessageId()).setFrom(identity.nodeId().value());
            if (e == null) {
                ack.setOk(true);
            } else {
                MeshworkException me = e instanceof MeshworkException x ? x
                        : new RetryableException(FailureCode.HANDLER_FAILED, String.valueOf(e));
                WireFailures.failed(ack, me.code(), me.getMessage(), me.isRetryable());
            }
            Ack answer = relayedHere ? auth.sign(ack.build(), source) : ack.build(); // off the lock: about a millisecond
            synchronized (MeshCore.this) {
                delivery.ack = answer;
                if (wantsAck) {
                    Channel reply = delivery.replyTo.isOpen() ? delivery.replyTo : delivery.replyTo.link.active;
                    if (reply != null && reply.isOpen()) {
                        write(reply, Frame.newBuilder().setAck(delivery.ack).build());
                    }
                }
            }
        });
    }

    /** Forwards an envelope (as it arrived: its origin's signature stays valid) on the target's own link. */
    private void relay(Channel ch, Envelope env, NodeId target) {
        if (env.getHopLimit() == 0) {
            count("refused.hopLimitExceeded");
            nack(ch, env, FailureCode.HOP_LIMIT_EXCEEDED, "hop limit exhausted before " + target, false);
            return;
        }
        long now = nanoTime.getAsLong();
        Link next = links.get(target);
        Channel out = next != null && next.active != null && next.active.isOpen() ? next.active : null;
        if (out == null || next == ch.link) {
            count("refused.unreachable");
            nack(ch, env, FailureCode.UNREACHABLE_PEER, "no direct link from " + identity.nodeId() + " to " + target, true);
            return;
        }
        if (!relayed.forward(NodeId.of(env.getSource()), env.getMessageId(), target, ch.link, out, now)) {
            count("duplicatesDropped.relay");
            return;
        }
        count("relayed");
        write(out, Frame.newBuilder().setEnvelope(env.toBuilder().setHopLimit(env.getHopLimit() - 1)).build());
    }

    /**
     * Refuses a message with a failed Ack (when the sender asked for one). As the message's target,
     * the refusal of a relayed message is signed for its origin, which otherwise could not tell it
     * from a relay's forgery; a relay's own refusal is unsigned and taken by the origin as no more
     * than a failed route.
     */
    private void nack(Channel ch, Envelope env, FailureCode code, String text, boolean retryable) {
        LOG.debug("refusing message {} from {}: {} {}", env.getMessageId(), ch.link.node, code, text);
        if (env.getAckRequested()) {
            Ack ack = WireFailures.failed(Ack.newBuilder().setMessageId(env.getMessageId())
                    .setFrom(identity.nodeId().value()), code, text, retryable).build();
            if (env.getTarget().equals(identity.nodeId().value()) && NodeId.isValid(env.getSource())
                    && !env.getSource().equals(ch.link.node.value())) {
                ack = auth.sign(ack, NodeId.of(env.getSource()));
            }
            write(ch, Frame.newBuilder().setAck(ack).build());
        }
    }

    /**
     * An ack. For a message of ours it counts only as its target's word: from the target's own link,
     * or under the target's signature (it came through a relay). The relay we handed the message to
     * may refuse it itself, which fails the message retryably and holds that route down, whatever
     * code it gives. An ack for a message this node relayed goes back the way the message came.
     * Anything else is a forgery or late, and counted.
     */
    private void onAck(Channel ch, Ack ack) {
        long now = nanoTime.getAsLong();
        Pending p = pendingById.get(ack.getMessageId());
        if (p != null && p.target.value().equals(ack.getFrom())) {
            if (ch.link == p.link) {
                settle(p, ack);
                return;
            }
            EndToEndAuth.Key key = auth.key(p.target, ack.getSignerKey());
            if (key.refusal() != null) {
                forgedAck(ch, ack, p, key.refusal());
                return;
            }
            verifying.execute(() -> {
                EndToEndAuth.OpenedAck opened = auth.open(ack, p.target, key); // off the lock, as prove()
                synchronized (MeshCore.this) {
                    EndToEndAuth.Refusal refused = opened.refusal() != null ? opened.refusal()
                            : auth.bind(p.target, key) ? null : EndToEndAuth.Refusal.UNKNOWN_KEY;
                    if (refused != null) {
                        forgedAck(ch, ack, p, refused);
                    } else if (pendingById.get(ack.getMessageId()) != p || p.future.isDone()) {
                        count("dropped.lateAck");
                    } else {
                        claims.delivered(p.target, ch.link.node);
                        settle(p, opened.ack());
                    }
                }
            });
            return;
        }
        if (p != null && !ack.getOk() && p.writtenOn != null && p.writtenOn.link == ch.link && ch.link != p.link
                && ack.getFrom().equals(ch.link.node.value())) {
            count("relay.refusals");
            claims.failed(p.target, ch.link.node, now);
            fail(p, new RetryableException(WireFailures.fromWire(ack.getCode()), "relay " + ch.link.node
                    + " did not forward to " + p.target + ": " + ack.getError()));
            return;
        }
        Link back = NodeId.isValid(ack.getFrom()) && ack.getFrom().equals(ch.link.node.value())
                ? relayed.ackRoute(ch.link.node, ack.getMessageId(), now) : null;
        if (back != null && back.active != null && back.active.isOpen()) {
            write(back.active, Frame.newBuilder().setAck(ack).build());
            return;
        }
        count(p != null ? "refused.forgedAck" : "dropped.lateAck");
    }

    private void forgedAck(Channel ch, Ack ack, Pending p, EndToEndAuth.Refusal why) {
        count("refused.forgedAck");
        count(why.counter);
        ch.link.count("refused.forgedAck");
        if (badInputLog.tryAcquire(nanoTime.getAsLong())) {
            LOG.warn("refusing an ack from {} for message {} in the name of {}: {}", ch.link.node, ack.getMessageId(),
                    p.target, why.counter);
        }
    }

    /** The target's own answer to a message of ours. */
    private void settle(Pending p, Ack answer) {
        if (answer.getOk()) {
            succeed(p, true);
        } else {
            fail(p, WireFailures.failureOf(answer));
        }
    }

    private void onGoodbye(Channel ch, Goodbye goodbye) {
        Link link = ch.link;
        count("goodbyes");
        String why = "Goodbye " + goodbye.getCode() + ": " + goodbye.getReason();
        Connection c = ch.connection;
        if (goodbye.getCode() == Goodbye.Code.UNTRUSTED) {
            refused(link, why);
        }
        // A peer that stops (a restart, e.g. SCR re-activating its router on a configuration
        // change), drops us from its configuration, or stops trusting us may take us back any moment:
        // redial at the normal, capped backoff (its refusals then say why). Other intentional
        // closes (protocol violation, flooding, surplus channel) are retried only slowly.
        Goodbye.Code code = goodbye.getCode();
        boolean comesBack = code == Goodbye.Code.SHUTDOWN || code == Goodbye.Code.REMOVED
                || code == Goodbye.Code.UNTRUSTED;
        channelDown(ch, code == Goodbye.Code.SELF_CONNECTION ? new PermanentException(FailureCode.SELF_CONNECTION, why)
                : comesBack ? new RetryableException(FailureCode.CLOSED, why)
                : new PermanentException(FailureCode.CLOSED, why));
        if (!ch.inbound && ch.state == ChannelState.BACKOFF && !comesBack) {
            // an intentional close: no reconnect at the normal pace
            scheduleRetry(ch, ChannelState.FAILED, settings.slowRetry().toNanos());
        }
        if (c != null) {
            c.close(CloseReason.NORMAL, "goodbye");
        }
    }

    private void refused(Link link, String why) {
        count("refusals");
        link.count("refusals");
        link.lastError = why;
        setLinkState(link, LinkState.REFUSED, why);
        emit(PeerEvent.Type.PEER_REFUSED, link, why);
    }

    private void protocolViolation(Channel ch, String why) {
        count("protocolViolations");
        ch.link.count("protocolViolations");
        if (badInputLog.tryAcquire(nanoTime.getAsLong())) {
            LOG.warn("protocol violation by {} on {}: {}", ch.link.node, ch.uri, why);
        }
        closeChannel(ch, Goodbye.Code.PROTOCOL_VIOLATION, why);
    }

    /** Closes a channel on purpose with a Goodbye; it is not redialed at the normal pace. */
    private void closeChannel(Channel ch, Goodbye.Code code, String why) {
        Connection c = ch.connection;
        if (c != null) {
            write(ch, Frame.newBuilder().setGoodbye(Goodbye.newBuilder().setCode(code).setReason(why)).build());
        }
        if (ch.session != null) {
            // nothing the peer sent behind this point is dispatched
            ch.session.closing();
        }
        if (ch.state == ChannelState.OPEN) {
            channelDown(ch, new PermanentException(FailureCode.CLOSED, why));
        }
        ch.cancelTimer();
        if (ch.dialing != null) {
            ch.dialing.cancel(false);
        }
        if (ch.state != ChannelState.CLOSED && Channel.hasEdge(ch.state, ChannelState.CLOSED)) {
            ch.moveTo(ChannelState.CLOSED);
        }
        ch.connection = null;
        if (c != null) {
            c.close(code == Goodbye.Code.PROTOCOL_VIOLATION ? CloseReason.PROTOCOL_ERROR : CloseReason.NORMAL, why);
        }
        if (ch.inbound) {
            ch.link.channels.remove(ch);
        }
        if (!ch.inbound && code != Goodbye.Code.REMOVED && code != Goodbye.Code.SHUTDOWN && !closed) {
            // a protocol violation or flood on an outbound channel: retry slowly from a fresh channel
            Channel fresh = new Channel(ch.link, ch.uri, false);
            int i = ch.link.channels.indexOf(ch);
            if (i >= 0) {
                ch.link.channels.set(i, fresh);
                fresh.moveTo(ChannelState.CONNECTING);
                scheduleRetry(fresh, ChannelState.FAILED, settings.slowRetry().toNanos());
                fresh.lastError = why;
            }
        }
    }

    private void updateNeighbours(Link link, List<String> ids, long version) {
        InboundLimits.Breach breach = settings.limits().checkNeighbours(ids);
        if (breach != null) {
            count(breach.counter());
            link.count(breach.counter());
            if (badInputLog.tryAcquire(nanoTime.getAsLong())) {
                LOG.info("ignoring the neighbour list of {}: {}", link.node, breach.reason());
            }
            return;
        }
        if (!claims.update(link.node, ids, version)) {
            return;
        }
        reviewRelayRoutes();
        // a route through this neighbour may have appeared: flush links that wait for one
        for (Link l : List.copyOf(links.values())) {
            if (l != link && !l.queue.isEmpty()) {
                flush(l);
            }
        }
    }

    private List<String> directNeighbours() {
        return links.values().stream().filter(l -> l.state == LinkState.UP)
                .map(l -> l.node.value()).sorted().toList();
    }

    private void broadcastNeighbours() {
        Frame f = Frame.newBuilder().setNeighbours(Neighbours.newBuilder().addAllNodeIds(directNeighbours())
                .setVersion(++neighboursVersion)).build();
        for (Link l : links.values()) {
            for (Channel c : l.channels) {
                if (c.isOpen()) {
                    write(c, f);
                }
            }
        }
    }

    // ---------------------------------------------------------------- status and events

    private void setLinkState(Link link, LinkState state, String why) {
        if (link.state != state) {
            link.state = state;
            link.since = wall.instant();
            if (state == LinkState.DOWN || state == LinkState.REFUSED) {
                link.lastError = why;
            }
        }
    }

    private PeerInfo info(Link link) {
        List<ChannelInfo> chs = link.channels.stream().map(c -> c.info(c == link.active)).toList();
        Route route;
        if (link.active != null && link.active.isOpen()) {
            route = Route.direct(link.active.uri);
        } else {
            Link via = relayFor(link.node);
            route = via == null ? Route.UNREACHABLE : Route.relay(via.node);
        }
        return new PeerInfo(link.node, link.name(), link.state, route, chs, link.held(), link.queuedBytes,
                Optional.ofNullable(link.incarnation), link.since, Optional.ofNullable(link.lastError), link.counters);
    }

    private void emit(PeerEvent.Type type, Link link, String detail) {
        if (listeners.isEmpty()) {
            return;
        }
        PeerEvent event = new PeerEvent(type, info(link), wall.instant(), detail);
        events.execute(() -> {
            for (PeerListener l : listeners) {
                try {
                    l.onPeerEvent(event);
                } catch (RuntimeException e) {
                    LOG.warn("peer listener {} failed: {}", l, e.toString());
                }
            }
        });
    }

    private void count(String name) {
        counters.merge(name, 1L, Long::sum);
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    // ---------------------------------------------------------------- the handshake's host

    /**
     * What the {@link HandshakeSession}s of this node ask of the core: the trust decision, bringing
     * an authenticated channel up, dispatching its frames, and the bookkeeping of a failed
     * handshake. Every method takes the core's lock; the sessions call them without holding any.
     */
    private final class SessionHost implements HandshakeSession.Host {

        @Override
        public HandshakeSession.Refusal judge(HandshakeSession s, PeerIdentity peer) {
            synchronized (MeshCore.this) {
                if (closed) {
                    return new HandshakeSession.Refusal(Goodbye.Code.SHUTDOWN, null,
                            new RetryableException(FailureCode.SHUT_DOWN, "node stopping"));
                }
                NodeId node = peer.node();
                Optional<PublicKey> pinned = Optional.ofNullable(pinnedKey(node));
                if (node.equals(identity.nodeId())) {
                    TrustPolicy.Decision d = trust.decide(node, peer.identityKey(), pinned, settings.trustedKeys());
                    if (d.verdict() == TrustPolicy.Verdict.SELF && peer.incarnation().equals(identity.incarnation())) {
                        return new HandshakeSession.Refusal(Goodbye.Code.SELF_CONNECTION, "refused.selfConnection",
                                new PermanentException(FailureCode.SELF_CONNECTION, "connection to self"));
                    }
                    return new HandshakeSession.Refusal(Goodbye.Code.KEY_MISMATCH, "refused.ownId",
                            new PermanentException(FailureCode.UNTRUSTED, d.verdict() == TrustPolicy.Verdict.SELF
                                    ? "another process runs with this node's identity" : d.reason()));
                }
                if (!s.isInbound() && !node.equals(s.channel.link.node)) {
                    return new HandshakeSession.Refusal(Goodbye.Code.UNTRUSTED, "refused.wrongNode",
                            new PermanentException(FailureCode.UNTRUSTED, "expected node " + s.channel.link.node
                                    + " but reached " + node));
                }
                if (s.isInbound() && peer.expected().isPresent() && !peer.expected().get().equals(identity.nodeId())) {
                    return new HandshakeSession.Refusal(Goodbye.Code.UNTRUSTED, "refused.wrongNode",
                            new PermanentException(FailureCode.UNTRUSTED, "dialer expected node "
                                    + peer.expected().get() + ", this is " + identity.nodeId()));
                }
                TrustPolicy.Decision d = trust.decide(node, peer.identityKey(), pinned, settings.trustedKeys());
                return switch (d.verdict()) {
                    case ACCEPT -> null;
                    case UNKNOWN_KEY -> new HandshakeSession.Refusal(Goodbye.Code.UNKNOWN_KEY, "refused.unknownKey",
                            new RetryableException(FailureCode.UNKNOWN_PEER, d.reason()));
                    default -> new HandshakeSession.Refusal(Goodbye.Code.KEY_MISMATCH, "refused.keyMismatch",
                            new PermanentException(FailureCode.UNTRUSTED, d.reason()));
                };
            }
        }

        @Override
        public void opened(HandshakeSession s) {
            synchronized (MeshCore.this) {
                Connection conn = s.connection;
                if (closed || !s.isOpen()) {
                    s.closing();
                    conn.close(CloseReason.GOING_AWAY, "node stopping");
                    return;
                }
                PeerIdentity peer = s.peer();
                Channel ch = s.channel;
                if (ch == null) {
                    Link link = links.get(peer.node());
                    if (link == null) {
                        link = new Link(peer.node(), null, wall.instant());
                        link.limiter = new RateLimiter(settings.rateBudget(), nanoTime.getAsLong());
                        links.put(peer.node(), link);
                    }
                    ch = new Channel(link, conn.uri(), true);
                    ch.moveTo(ChannelState.AUTHENTICATING);
                    link.channels.add(ch);
                    s.channel = ch;
                } else if (ch.connection != conn || ch.state != ChannelState.AUTHENTICATING) {
                    s.closing();
                    conn.close(CloseReason.NORMAL, "superseded");
                    return;
                }
                ch.link.pinnedKey = ch.link.pinnedKey == null ? peer.identityKey() : ch.link.pinnedKey;
                ch.session = s;
                count("handshakesOk");
                channelUp(ch, peer.incarnation(), conn);
            }
        }

        @Override
        public void dispatch(HandshakeSession s, Frame frame) {
            synchronized (MeshCore.this) {
                Channel ch = s.channel;
                if (!s.isOpen() || ch == null || ch.session != s || !ch.isOpen()) {
                    // the session or its channel is closing: nothing behind that point is dispatched
                    count("dropped.afterClose");
                    return;
                }
                onAuthenticatedFrame(ch, frame);
            }
        }

        @Override
        public void violated(HandshakeSession s, String counter, String why) {
            synchronized (MeshCore.this) {
                count(counter);
                Channel ch = s.channel;
                if (ch != null && ch.session == s && ch.isOpen()) {
                    protocolViolation(ch, why);
                } else {
                    s.closing();
                    s.connection.close(CloseReason.PROTOCOL_ERROR, why);
                }
            }
        }

        @Override
        public void handshakeFailed(HandshakeSession s, String counter, MeshworkException why) {
            synchronized (MeshCore.this) {
                Connection conn = s.connection;
                if (counter != null) {
                    count(counter);
                    if (counter.startsWith("refused.")) {
                        count("refusals");
                    }
                    if (badInputLog.tryAcquire(nanoTime.getAsLong())) {
                        LOG.info("handshake {} on {} ended: {} ({})", s.isInbound() ? "from " + remote(conn) : "to "
                                + s.channel.link.node, conn == null ? "?" : conn.uri(), why.getMessage(), counter);
                    }
                }
                if (s.isInbound()) {
                    // a stranger's refusal is the listener's (counted above), never the status of the
                    // peer it named: only an authenticated dialer's own link records refusals
                    return;
                }
                Channel ch = s.channel;
                if (ch.state != ChannelState.AUTHENTICATING || ch.connection != conn) {
                    return;
                }
                if (why.code() == FailureCode.UNTRUSTED || why.code() == FailureCode.UNKNOWN_PEER) {
                    refused(ch.link, why.getMessage());
                }
                channelFailed(ch, why);
                ensureDialsLater(ch.link);
            }
        }

        @Override
        public void closedAfterOpen(HandshakeSession s, CloseReason reason) {
            synchronized (MeshCore.this) {
                Channel ch = s.channel;
                if (ch == null || ch.connection != s.connection || ch.state != ChannelState.OPEN) {
                    return;
                }
                MeshworkException why = reason.intentional()
                        ? new PermanentException(FailureCode.CLOSED, "closed: " + reason.text())
                        : new RetryableException(reason.kind() == CloseReason.Kind.STALE ? FailureCode.TIMEOUT
                                : FailureCode.CONNECTION_RESET, reason.kind() + " " + reason.text());
                channelDown(ch, why);
                if (reason.intentional() && !ch.inbound && ch.state == ChannelState.BACKOFF) {
                    scheduleRetry(ch, ChannelState.FAILED, settings.slowRetry().toNanos());
                }
            }
        }

        @Override
        public void rtt(HandshakeSession s, Duration sample) {
            synchronized (MeshCore.this) {
                Channel ch = s.channel;
                if (ch != null && ch.isOpen() && ch.session == s) {
                    onRtt(ch, sample.toNanos());
                }
            }
        }

        @Override
        public void writable(HandshakeSession s) {
            synchronized (MeshCore.this) {
                if (s.channel != null && s.isOpen()) {
                    flush(s.channel.link);
                }
            }
        }

        @Override
        public void count(String counter) {
            synchronized (MeshCore.this) {
                MeshCore.this.count(counter);
            }
        }

        @Override
        public Frame neighboursFrame() {
            synchronized (MeshCore.this) {
                return Frame.newBuilder().setNeighbours(Neighbours.newBuilder().addAllNodeIds(directNeighbours())
                        .setVersion(++neighboursVersion)).build();
            }
        }
    }

    private static String remote(Connection conn) {
        return conn == null || conn.remoteAddress() == null ? "?" : conn.remoteAddress().toString();
    }

    /** Arms the handshake timeout of {@code session}. */
    private ScheduledFuture<?> handshakeTimeout(HandshakeSession session) {
        Duration limit = settings.helloTimeout();
        return scheduler.schedule(() -> session.timedOut(limit), limit.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The key configured for {@code node}, when it is a configured peer with one. */
    private PublicKey pinnedKey(NodeId node) {
        Link link = links.get(node);
        return link != null && link.config != null && link.config.publicKey().isPresent() ? link.pinnedKey : null;
    }

    /** Test and status hook: the state of every channel of {@code node}. */
    synchronized List<ChannelInfo> channels(NodeId node) {
        Link link = links.get(node);
        return link == null ? List.of() : info(link).channels();
    }

    public static Set<String> schemesOf(Object property) {
        if (property instanceof String s) {
            return Set.of(s.split("\\s*,\\s*"));
        }
        if (property instanceof String[] a) {
            return Set.of(a);
        }
        if (property instanceof java.util.Collection<?> c) {
            return c.stream().map(String::valueOf).collect(Collectors.toSet());
        }
        return Set.of();
    }
}
