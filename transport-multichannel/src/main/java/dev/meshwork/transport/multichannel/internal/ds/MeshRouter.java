package dev.meshwork.transport.multichannel.internal.ds;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.PeerListener;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.router.WorkToken;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import dev.meshwork.transport.multichannel.internal.InboundLimits;
import dev.meshwork.transport.multichannel.internal.MeshCore;
import dev.meshwork.transport.multichannel.internal.RouterSettings;
import dev.meshwork.transport.multichannel.internal.secure.IdentityBindings;
import java.net.URI;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DS face of the node core: reads {@code dev.meshwork.node}, loads the identity, builds a
 * {@link MeshCore} and feeds it the whiteboard ({@link Transport}s by scheme, {@link MessageHandler}s
 * by topic, {@link PeerListener}s). Registers {@link Router} and {@link NodeIdentity}.
 *
 * <p>A changed {@code dev.meshwork.node} configuration ({@link Modified}): timeouts, limits, backoff,
 * thresholds and trusted keys are applied to the running core, links stay up. A change of
 * {@code id} or {@code listen} restarts the core in place (old core closed and its addresses
 * released, a new one with a new incarnation, the bound whiteboard services and the configured
 * peers replayed into it), so the registered services and the {@code PeerComponent}s that
 * reference them stay as they are. Without {@code @Modified}, SCR would deactivate the component,
 * unbind every {@code PeerComponent} (static reference) and redo all of it.
 *
 * <p><b>Start and stop</b> (docs/lifecycle.md). The router registers before its peers: each
 * {@code PeerComponent} needs the {@link Router} and adds its peer when SCR gets to it. Until
 * every {@code dev.meshwork.peer} configuration ConfigAdmin holds has been added
 * ({@link ConfiguredPeers}), {@link #isReady()} is false, and a send to a configured peer not
 * added yet fails retryable ({@code UNREACHABLE_PEER}) instead of permanent {@code UNKNOWN_PEER}.
 * On stop SCR deactivates the {@code PeerComponent}s first; a peer removed while this bundle or
 * the framework is stopping fails its held sends with a retryable {@code SHUT_DOWN}.
 */
@Component(service = {Router.class, NodeIdentity.class}, configurationPid = "dev.meshwork.node",
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = MeshRouter.Config.class)
public final class MeshRouter implements Router, NodeIdentity {

    private static final Logger LOG = LoggerFactory.getLogger(MeshRouter.class);

    @ObjectClassDefinition(id = "dev.meshwork.node", name = "Meshwork node",
            description = "Identity, listeners, trust, limits and timing of this node's router.")
    public @interface Config {
        @AttributeDefinition(description = "Node id; generated once and kept under <data>/identity/ when empty.")
        String id() default "";

        @AttributeDefinition(description = "URLs to accept peer connections on (one transport per scheme).")
        String[] listen() default {"ws://127.0.0.1:7400/mesh"};

        @AttributeDefinition(description = "Base64 X.509 Ed25519 keys trusted for any node id (peers without a configured key). "
                + "The first id a trusted key authenticates as stays bound to it (`<data dir>/identity/bindings`): "
                + "no other key, trusted or not, can take that id later.")
        String[] trustedKeys() default {};

        @AttributeDefinition(description = "Bound on the secure handshake of a new connection (connection to authenticated link), in milliseconds.")
        long helloTimeoutMillis() default 5000;

        @AttributeDefinition(description = "Connections that have not authenticated yet, in total; more are closed at once. "
                + "Each holds about 2 KiB until it authenticates or times out.")
        int maxHandshakes() default 256;

        @AttributeDefinition(description = "Connections that have not authenticated yet from one remote IP address; more are closed at once.")
        int maxHandshakesPerAddress() default 32;

        @AttributeDefinition(description = "Messages a peer's send queue may hold (queued plus awaiting ack).")
        int queueLimit() default 1000;

        @AttributeDefinition(description = "Payload bytes a peer's send queue may hold.")
        long queueBytes() default 16L << 20;

        @AttributeDefinition(description = "Largest payload sent or accepted, in bytes.")
        int maxPayloadBytes() default (1 << 20) - 4096;

        @AttributeDefinition(description = "Ping interval on the active channel, in milliseconds.")
        long pingIntervalMillis() default 100;

        @AttributeDefinition(description = "Ping interval on standby channels, in milliseconds.")
        long standbyPingIntervalMillis() default 1000;

        @AttributeDefinition(description = "Phi-accrual suspicion at which a silent channel is declared dead.")
        double phiThreshold() default 8.0;

        @AttributeDefinition(description = "Silence always tolerated on top of the learnt heartbeat distribution, in milliseconds.")
        long acceptablePauseMillis() default 250;

        @AttributeDefinition(description = "Reconnect backoff base, in milliseconds (full jitter).")
        long backoffBaseMillis() default 500;

        @AttributeDefinition(description = "Reconnect backoff cap, in milliseconds.")
        long backoffCapMillis() default 30_000;

        @AttributeDefinition(description = "Retry pace of a failed channel (repeated identical permanent failures, a protocol violation, flooding), in milliseconds. A refused key uses the regular backoff instead.")
        long slowRetryMillis() default 60_000;

        @AttributeDefinition(description = "Identical permanent failures before a channel is marked FAILED.")
        int permanentFailureLimit() default 3;

        @AttributeDefinition(description = "Hot standby channels kept open per peer besides the active one.")
        int standbyCount() default 1;

        @AttributeDefinition(description = "Frames per second a peer may send before it is refused (RATE_LIMITED).")
        int rateBudget() default 50_000;

        @AttributeDefinition(description = "Longest message id accepted from a peer or sent, in characters; a longer one is refused (PAYLOAD_TOO_LARGE).")
        int maxMessageIdChars() default 128;

        @AttributeDefinition(description = "Longest topic accepted from a peer or sent, in characters; a longer one is refused (PAYLOAD_TOO_LARGE).")
        int maxTopicChars() default 256;

        @AttributeDefinition(description = "Most headers of one message accepted from a peer or sent; more are refused (PAYLOAD_TOO_LARGE).")
        int maxHeaders() default 32;

        @AttributeDefinition(description = "Most UTF-8 bytes of one message's header keys and values together; more are refused (PAYLOAD_TOO_LARGE).")
        int maxHeaderBytes() default 8192;

        @AttributeDefinition(description = "Most node ids in a neighbour list a peer announces; a longer list is refused and its claims ignored.")
        int maxNeighbours() default 1024;
    }

    /** Whiteboard services bound now, in bind order: replayed into every new core. */
    private final List<Object[]> bound = new ArrayList<>();
    /** Peers added through this Router (the PeerComponents): replayed when the core restarts in place. */
    private final Map<NodeId, PeerConfig> peerConfigs = new LinkedHashMap<>();
    private volatile MeshCore core;
    private volatile Ed25519Identity identity;
    private ScheduledExecutorService scheduler;
    private ExecutorService callbacks;
    private final List<URI> waitingListens = new ArrayList<>();
    private Config current;
    private volatile BundleContext context;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ConfigurationAdmin configAdmin;

    private final ConfiguredPeers configured = new ConfiguredPeers(() -> configAdmin, System::nanoTime);

    @Activate
    void activate(BundleContext context, Config config) {
        this.context = context;
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "meshwork-router"));
        callbacks = Executors.newCachedThreadPool(r -> thread(r, "meshwork-handlers"));
        try {
            startCore(context, config);
        } catch (RuntimeException e) {
            deactivate(); // SCR will not call it for a failed activation
            throw e;
        }
    }

    @Modified
    void modified(BundleContext context, Config config) {
        if (!config.id().trim().equals(current.id().trim())
                || !normalised(config.listen()).equals(normalised(current.listen()))) {
            LOG.info("dev.meshwork.node id or listen changed: restarting the router core");
            stopCore();
            startCore(context, config);
            return;
        }
        core().updateSettings(settingsOf(config));
        current = config;
        LOG.info("dev.meshwork.node changed: settings applied to the running router");
    }

    private static List<String> normalised(String[] urls) {
        return Arrays.stream(urls).map(String::trim).toList();
    }

    static RouterSettings settingsOf(Config config) {
        RouterSettings d = RouterSettings.DEFAULTS;
        return new RouterSettings(Duration.ofMillis(config.helloTimeoutMillis()), config.queueLimit(),
                config.queueBytes(), config.maxPayloadBytes(), Duration.ofMillis(config.pingIntervalMillis()),
                Duration.ofMillis(config.standbyPingIntervalMillis()), config.phiThreshold(), d.minStdDeviation(),
                Duration.ofMillis(config.acceptablePauseMillis()),
                BackoffPolicy.fullJitter(Duration.ofMillis(config.backoffBaseMillis()), Duration.ofMillis(config.backoffCapMillis())),
                Duration.ofMillis(config.slowRetryMillis()), config.permanentFailureLimit(), config.standbyCount(),
                d.dialStagger(), d.switchRatio(), d.switchSamples(), config.rateBudget(), d.dedupWindow(),
                d.dedupCapacity(), d.clockJumpThreshold(), Set.of(config.trustedKeys()),
                new InboundLimits(config.maxMessageIdChars(), config.maxTopicChars(), config.maxHeaders(),
                        config.maxHeaderBytes(), config.maxNeighbours()),
                config.maxHandshakes(), config.maxHandshakesPerAddress());
    }

    private void startCore(BundleContext context, Config config) {
        String dataDir = Optional.ofNullable(context.getProperty("meshwork.data.dir")).orElse("data");
        Optional<NodeId> id;
        try {
            id = config.id().isBlank() ? Optional.empty() : Optional.of(NodeId.of(config.id().trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dev.meshwork.node id: " + e.getMessage());
        }
        List<URI> listen = new ArrayList<>();
        for (String l : config.listen()) {
            try {
                listen.add(URI.create(l.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("dev.meshwork.node listen: malformed URL '" + l + "'");
            }
        }
        RouterSettings settings = settingsOf(config);
        identity = Ed25519Identity.loadOrCreate(Path.of(dataDir, "identity"), id);
        // ids learned with a trusted key stay bound to it, next to the node's own identity
        IdentityBindings bindings = IdentityBindings.load(Path.of(dataDir, "identity", "bindings"));
        MeshCore c = new MeshCore(identity, settings, System::nanoTime, InstantSource.system(), scheduler, callbacks,
                () -> ThreadLocalRandom.current().nextDouble(), bindings);
        c.start();
        List<Object[]> replay;
        List<PeerConfig> peers;
        synchronized (this) {
            current = config;
            waitingListens.clear();
            configured.restart();
            core = c;
            replay = List.copyOf(bound);
            peers = List.copyOf(peerConfigs.values());
        }
        replay.forEach(op -> apply(c, op));
        for (PeerConfig p : peers) {
            try {
                c.addPeer(p);
            } catch (RuntimeException e) {
                LOG.error("peer {} not re-added after the restart: {}", p.name(), e.getMessage());
            }
        }
        for (URI uri : listen) {
            if (c.hasTransport(uri.getScheme())) {
                bind(c, uri);
            } else {
                synchronized (this) {
                    waitingListens.add(uri);
                }
                LOG.info("no transport for {} yet: listening once one registers", uri);
            }
        }
        LOG.info("node {} (incarnation {}) started", identity.nodeId(), identity.incarnation());
    }

    /** Closes the core and waits (bounded) until its listeners released their addresses. */
    private void stopCore() {
        MeshCore c;
        synchronized (this) {
            c = core;
            core = null;
        }
        if (c != null) {
            try {
                c.close().get(5, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("router listeners not closed within 5 s: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void bind(MeshCore c, URI uri) {
        try {
            c.listen(uri).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("dev.meshwork.node listen " + uri + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("dev.meshwork.node listen " + uri + ": not bound within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("dev.meshwork.node listen " + uri + ": interrupted");
        }
    }

    @Deactivate
    void deactivate() {
        context = null;
        stopCore();
        scheduler.shutdownNow();
        callbacks.shutdown();
    }

    /** Records a bound whiteboard service; returns the core to hand it to, or null while there is none. */
    private synchronized MeshCore record(Object... op) {
        bound.add(op);
        return core;
    }

    private synchronized void forget(Object service) {
        bound.removeIf(op -> op[1] == service);
    }

    private void apply(MeshCore c, Object[] op) {
        switch ((String) op[0]) {
            case "transport" -> transportTo(c, (Transport) op[1], castMap(op[2]));
            case "handler" -> c.addHandler((MessageHandler) op[1],
                    List.copyOf(MeshCore.schemesOf(castMap(op[2]).get(MessageHandler.TOPIC))));
            case "listener" -> c.addListener((PeerListener) op[1]);
            default -> throw new IllegalStateException(String.valueOf(op[0]));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object o) {
        return (Map<String, Object>) o;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeTransport")
    void addTransport(Transport transport, Map<String, Object> props) {
        MeshCore c = record("transport", transport, props);
        if (c != null) {
            transportTo(c, transport, props);
        }
    }

    private void transportTo(MeshCore c, Transport transport, Map<String, Object> props) {
        Set<String> schemes = MeshCore.schemesOf(props.get(Transport.SCHEMES));
        c.addTransport(transport, List.copyOf(schemes));
        List<URI> now = new ArrayList<>();
        synchronized (this) {
            waitingListens.removeIf(u -> {
                if (schemes.contains(u.getScheme())) {
                    now.add(u);
                    return true;
                }
                return false;
            });
        }
        for (URI u : now) {
            c.listen(u).whenComplete((bound, e) -> {
                if (e != null) {
                    LOG.error("dev.meshwork.node listen {}: {}", u, e.getMessage());
                } else {
                    LOG.info("listening on {}", bound);
                }
            });
        }
    }

    void removeTransport(Transport transport) {
        forget(transport);
        MeshCore c = core;
        if (c != null) {
            List<URI> lost = c.removeTransport(transport);
            if (!lost.isEmpty()) {
                synchronized (this) {
                    waitingListens.addAll(lost);
                }
                LOG.info("transport gone: listening on {} again once one registers", lost);
            }
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeHandler")
    void addHandler(MessageHandler handler, Map<String, Object> props) {
        Object[] op = {"handler", handler, props};
        MeshCore c = record(op);
        if (c != null) {
            apply(c, op);
        }
    }

    void removeHandler(MessageHandler handler) {
        forget(handler);
        MeshCore c = core;
        if (c != null) {
            c.removeHandler(handler);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeListener")
    void addListener(PeerListener listener) {
        MeshCore c = record("listener", listener, Map.of());
        if (c != null) {
            c.addListener(listener);
        }
    }

    void removeListener(PeerListener listener) {
        forget(listener);
        MeshCore c = core;
        if (c != null) {
            c.removeListener(listener);
        }
    }

    // ---- Router, delegated

    private MeshCore core() {
        MeshCore c = core;
        if (c == null) {
            throw new IllegalStateException("the router is stopped or restarting");
        }
        return c;
    }

    @Override
    public NodeId localNode() {
        return identity.nodeId();
    }

    @Override
    public CompletableFuture<DeliveryResult> send(NodeId target, String topic, byte[] payload, SendOptions options) {
        CompletableFuture<DeliveryResult> sent = core().send(target, topic, payload, options);
        if (sent.isCompletedExceptionally() && unknownPeer(sent)) {
            if (stopping()) {
                // the PeerComponents went first: the peer is gone because the node stops, not for good
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.SHUT_DOWN,
                        "node stopping: peer " + target + " was removed"));
            }
            if (configured.isConfigured(target)) {
                // ConfigAdmin holds the peer; SCR has not added it yet (starting, or a new configuration)
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.UNREACHABLE_PEER,
                        "peer " + target + " is configured but not added yet; try again shortly"));
            }
        }
        return sent;
    }

    private static boolean unknownPeer(CompletableFuture<?> failed) {
        Throwable e = failed.handle((r, t) -> t).join();
        return e instanceof PermanentException p && p.code() == FailureCode.UNKNOWN_PEER;
    }

    /** Not while stopping either: the PeerComponents are removed first, and their peers must not look unknown. */
    @Override
    public boolean isReady() {
        MeshCore c = core;
        if (c == null || stopping()) {
            return false;
        }
        return configured.isReady(() -> {
            synchronized (this) {
                return List.copyOf(peerConfigs.keySet());
            }
        });
    }

    /** Whether this bundle or the whole framework is on its way down (a peer removed now is not a configuration change). */
    private boolean stopping() {
        BundleContext c = context;
        if (c == null) {
            return true;
        }
        try {
            return c.getBundle().getState() == Bundle.STOPPING || c.getBundle(0).getState() == Bundle.STOPPING;
        } catch (IllegalStateException e) {
            return true; // the context is no longer valid: the bundle stopped
        }
    }

    @Override
    public CompletableFuture<Void> deliverLocally(InboundMessage message) {
        return core().deliverLocally(message);
    }

    @Override
    public void addPeer(PeerConfig peer) {
        MeshCore c = core;
        if (c != null) {
            try {
                c.addPeer(peer); // validates: a refused configuration is not recorded
            } catch (RuntimeException e) {
                configured.refused(peer.node()); // readiness does not wait for a peer that will not come
                throw e;
            }
        }
        synchronized (this) {
            peerConfigs.put(peer.node(), peer);
        }
        configured.accepted(peer.node());
    }

    @Override
    public boolean removePeer(NodeId node) {
        synchronized (this) {
            peerConfigs.remove(node);
        }
        MeshCore c = core;
        return c != null && c.removePeer(node, stopping());
    }

    @Override
    public List<PeerInfo> peers() {
        return core().peers();
    }

    @Override
    public Optional<PeerInfo> peer(NodeId node) {
        return core().peer(node);
    }

    @Override
    public List<URI> listenUris() {
        return core().listenUris();
    }

    @Override
    public WorkToken beginWork(NodeId peer) {
        return core().beginWork(peer);
    }

    @Override
    public Map<String, Long> counters() {
        return core().counters();
    }

    // ---- NodeIdentity, delegated

    @Override
    public NodeId nodeId() {
        return identity.nodeId();
    }

    @Override
    public PublicKey publicKey() {
        return identity.publicKey();
    }

    @Override
    public String publicKeyBase64() {
        return identity.publicKeyBase64();
    }

    @Override
    public String incarnation() {
        return identity.incarnation();
    }

    @Override
    public byte[] sign(byte[] data) {
        return identity.sign(data);
    }
}
