package dev.meshwork.bench.outbox;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.outbox.sqlite.internal.OutboxConfig;
import dev.meshwork.outbox.sqlite.internal.OutboxService;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import dev.meshwork.transport.multichannel.internal.MeshCore;
import dev.meshwork.transport.multichannel.internal.RouterSettings;
import dev.meshwork.transport.ws.internal.WsSettings;
import dev.meshwork.transport.ws.internal.WsTransportEngine;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One real Meshwork node as plain objects, wired as the bundles wire it at run time: the Router
 * ({@link MeshCore}) over the real WebSocket transport, and the SQLite outbox with its inbox
 * registered as the {@code meshwork.outbox} handler and as a peer listener.
 *
 * <p>Router settings are the shipped DS defaults of {@code dev.meshwork.node} (which differ from
 * {@code RouterSettings.DEFAULTS} in the rate budget: 50,000 frames/s per peer, not 2,000).
 */
public final class MeshNode implements AutoCloseable {

    /** The DS component's default rate budget ({@code dev.meshwork.node rateBudget}). */
    public static final int DS_RATE_BUDGET = 50_000;

    public final Ed25519Identity identity;
    public final MeshCore core;
    public final OutboxService outbox;
    private final WsTransportEngine transport;
    private final ScheduledExecutorService routerScheduler;
    private final ExecutorService callbacks;
    private final ScheduledExecutorService outboxScheduler;

    public MeshNode(Path identityDir, NodeId id, Set<String> trustedKeys, Path database) {
        identity = Ed25519Identity.loadOrCreate(identityDir, Optional.of(id));
        transport = new WsTransportEngine(WsSettings.defaults(), () -> Optional.of(id.value()), System::nanoTime, InstantSource.system());
        routerScheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "meshwork-router"));
        callbacks = Executors.newCachedThreadPool(r -> daemon(r, "meshwork-handlers"));
        core = new MeshCore(identity, RouterSettings.DEFAULTS.withTrustedKeys(trustedKeys).withRateBudget(DS_RATE_BUDGET),
                System::nanoTime, InstantSource.system(), routerScheduler, callbacks, () -> ThreadLocalRandom.current().nextDouble());
        core.addTransport(transport, List.of("ws"));
        core.start();
        outboxScheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "meshwork-outbox-drain"));
        outbox = new OutboxService(OutboxConfig.defaults(database), InstantSource.system(), System::nanoTime, outboxScheduler,
                () -> ThreadLocalRandom.current().nextDouble());
        core.addHandler(outbox.inbox(), List.of("meshwork.outbox"));
        core.addListener(outbox::onPeerEvent);
    }

    /** Lets the outbox send (and check targets) through this node's Router. */
    public void attachOutbox() {
        outbox.setRouter(core);
    }

    /** Registers an application handler (what the inbox hands unwrapped messages to). */
    public void handle(String topic, MessageHandler handler) {
        core.addHandler(handler, List.of(topic));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void close() {
        outbox.close();
        outboxScheduler.shutdownNow();
        core.close();
        transport.close();
        routerScheduler.shutdownNow();
        callbacks.shutdownNow();
    }
}
