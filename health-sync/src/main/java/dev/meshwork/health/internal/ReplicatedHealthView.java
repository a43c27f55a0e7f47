package dev.meshwork.health.internal;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthListener;
import dev.meshwork.api.health.HealthView;
import dev.meshwork.api.health.NodeStatus;
import dev.meshwork.api.health.Observation;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleListener;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerListener;
import dev.meshwork.api.router.Router;
import dev.meshwork.health.internal.sync.SyncConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link HealthView} service: builds a {@link HealthNode} from the configuration and the
 * {@link Router}, and takes part in the router's whiteboards (a {@link PeerListener}, a
 * {@link MessageHandler} for {@value HealthNode#TOPIC}) and the supervisor's
 * ({@link LifecycleListener}). {@link HealthListener}s are called on the health thread, in order.
 *
 * <p>A configuration change restarts the replica (the state file keeps the document).
 *
 * <p><b>Start order.</b> Any: the router's links may come up before this component starts, while
 * it starts, or after; SCR registers the peer listener and the sync handler only after the
 * start, and the router announces a change only to the listeners registered when it happens.
 * The replica therefore compares with {@code Router.peers()} at its start, a moment later and
 * every anti-entropy interval, and adopts a direct peer whose sync message arrives first; while
 * the router restarts its core and cannot list its peers, the start goes on and the comparison
 * is repeated (see {@code PeerTracker}). Queries, {@code health:view} and the counters read the
 * snapshot the health thread publishes after each task ({@link HealthSnapshot}).
 */
@Component(service = {HealthView.class, PeerListener.class, MessageHandler.class, LifecycleListener.class},
        configurationPid = "dev.meshwork.health", configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = MessageHandler.TOPIC + "=" + HealthNode.TOPIC)
@Designate(ocd = HealthSyncConfig.class)
public final class ReplicatedHealthView implements HealthView, PeerListener, MessageHandler, LifecycleListener {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedHealthView.class);

    private final Router router;
    private final List<HealthListener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService executor;
    private final HealthNode node;

    @Activate
    public ReplicatedHealthView(@Reference(name = "router") Router router, HealthSyncConfig config, BundleContext context) {
        this.router = router;
        Path file = stateFile(config, context.getProperty("meshwork.data.dir"));
        SyncConfig sync = syncConfig(config);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "meshwork-health");
            t.setDaemon(true);
            return t;
        });
        this.node = new HealthNode(router, new StateStore(file), sync, InstantSource.system(), executor,
                Duration.ofMillis(positive(config.persistDelayMillis(), "persistDelayMillis")),
                Duration.ofSeconds(positive(config.rttSummaryIntervalSeconds(), "rttSummaryIntervalSeconds")),
                this::notifyListeners);
        try {
            onExecutor(node::start, "start");
        } catch (RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
        LOG.info("health sync started: state {}, retention {}", file, sync.retention());
    }

    static Path stateFile(HealthSyncConfig config, String dataDir) {
        if (!config.persistencePath().isBlank()) {
            return Path.of(config.persistencePath());
        }
        return Path.of(dataDir == null || dataDir.isBlank() ? "data" : dataDir, "health", "state.bin");
    }

    static SyncConfig syncConfig(HealthSyncConfig c) {
        try {
            return new SyncConfig(Duration.ofMillis(c.pushWindowMillis()),
                    Duration.ofSeconds(positive(c.antiEntropyIntervalSeconds(), "antiEntropyIntervalSeconds")),
                    Duration.ofMillis(c.rejoinTimeoutMillis()),
                    Duration.ofSeconds(positive(c.retentionSeconds(), "retentionSeconds")),
                    (int) positive(c.maxEventsPerNode(), "maxEventsPerNode"),
                    (int) positive(c.maxEventsPerMessage(), "maxEventsPerMessage"),
                    Duration.ofSeconds(positive(c.compactionIntervalSeconds(), "compactionIntervalSeconds")),
                    catchUpBackoff(c));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("dev.meshwork.health: ")) {
                throw e; // already names the PID and the key
            }
            throw new IllegalArgumentException("dev.meshwork.health: " + e.getMessage(), e);
        }
    }

    static BackoffPolicy catchUpBackoff(HealthSyncConfig c) {
        long base = positive(c.catchUpBackoffMillis(), "catchUpBackoffMillis");
        long cap = positive(c.catchUpMaxBackoffMillis(), "catchUpMaxBackoffMillis");
        if (cap < base) {
            throw new IllegalArgumentException("dev.meshwork.health: catchUpMaxBackoffMillis (" + cap
                    + ") must be >= catchUpBackoffMillis (" + base + ")");
        }
        return new BackoffPolicy(Duration.ofMillis(base), Duration.ofMillis(cap), 2.0, 0.5);
    }

    private static long positive(long v, String key) {
        if (v <= 0) {
            throw new IllegalArgumentException("dev.meshwork.health: " + key + " must be > 0, got " + v);
        }
        return v;
    }

    @Deactivate
    void deactivate() {
        try {
            onExecutor(node::stop, "stop");
        } finally {
            executor.shutdown();
        }
    }

    private void onExecutor(Runnable r, String what) {
        try {
            executor.submit(r).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("health sync " + what + " interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("health sync " + what + " failed: " + cause.getMessage(), cause);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addHealthListener(HealthListener l) {
        listeners.add(l);
    }

    void removeHealthListener(HealthListener l) {
        listeners.remove(l);
    }

    private void notifyListeners(List<HealthEvent> events) {
        for (HealthListener l : listeners) {
            try {
                l.onHealthChanged(events);
            } catch (RuntimeException e) {
                LOG.warn("health listener {} failed", l, e);
            }
        }
    }

    /** The replica as last published by the health thread, for the Gogo commands and the console. */
    public HealthSnapshot snapshot() {
        return node.snapshot();
    }

    @Override
    public void onPeerEvent(PeerEvent event) {
        node.onPeerEvent(event);
    }

    @Override
    public CompletionStage<Void> onMessage(InboundMessage message) {
        node.onSyncMessage(message);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void onLifecycleEvent(LifecycleEvent event) {
        node.onLifecycleEvent(event);
    }

    @Override
    public List<NodeId> nodes() {
        return node.nodes();
    }

    @Override
    public List<Observation> observations() {
        return node.observations();
    }

    @Override
    public Optional<NodeStatus> status(NodeId n) {
        return node.status(n);
    }

    @Override
    public List<HealthEvent> timeline(NodeId n, Instant since, int limit) {
        return node.timeline(n, since, limit);
    }

    @Override
    public double uptime(NodeId n, Duration window) {
        return node.uptime(n, window);
    }

    @Override
    public Map<NodeId, Long> versionVector() {
        return node.versionVector();
    }
}
