package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.BackoffPolicy;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxReceipt;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerListener;
import dev.meshwork.api.router.Router;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The DS component registering the SQLite {@link Outbox}; it is also the {@code meshwork.outbox}
 * {@link MessageHandler} (the receiving inbox) and a {@link PeerListener} (a peer coming up wakes
 * the drain). Thin: it reads {@code dev.meshwork.outbox.sqlite} and the {@link Router} reference
 * and delegates to an {@link OutboxService}.
 *
 * <p>A configuration change restarts the component (no {@code @Modified}): the database file,
 * its pragmas and the worker threads are all set at open.
 *
 * <p><b>Start and stop</b> (docs/lifecycle.md): it may start before, with or after the router.
 * Activation recovers rows left in flight to pending; the drain sends nothing until a bound
 * {@link Router} is {@linkplain Router#isReady() ready}, and follows the router as it goes and
 * comes (dynamic reference). Deactivation stops the drain before anything else, so no outcome
 * arriving during the stop marks a row; those rows are pending again at the next start.
 */
@Component(service = {Outbox.class, MessageHandler.class, PeerListener.class},
        configurationPid = SqliteOutbox.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = MessageHandler.TOPIC + "=" + DeliveryCodec.TOPIC)
@Designate(ocd = SqliteOutbox.Config.class)
public final class SqliteOutbox implements Outbox, MessageHandler, PeerListener {

    static final String PID = "dev.meshwork.outbox.sqlite";

    @ObjectClassDefinition(id = PID, name = "Meshwork SQLite outbox",
            description = "Durable at-least-once delivery with receiver dedup, in an SQLite file.")
    public @interface Config {
        @AttributeDefinition(description = "Database file; empty means <meshwork.data.dir>/outbox.db.")
        String databaseFile() default "";

        @AttributeDefinition(description = "SQLite synchronous mode: FULL survives power loss, NORMAL only a process crash.",
                options = {@Option(label = "FULL", value = "FULL"), @Option(label = "NORMAL", value = "NORMAL")})
        String synchronous() default "FULL";

        @AttributeDefinition(description = "Largest payload enqueue accepts, in bytes (PAYLOAD_TOO_LARGE beyond).", min = "1")
        int maxPayloadBytes() default 512 * 1024;

        @AttributeDefinition(description = "Delivery attempts after which a message is dead.", min = "1")
        int maxAttempts() default 25;

        @AttributeDefinition(description = "Backoff before the first retry, in milliseconds (full jitter, doubling).", min = "1")
        long backoffBaseMillis() default 500;

        @AttributeDefinition(description = "Largest backoff between retries, in milliseconds.", min = "1")
        long backoffCapMillis() default 30_000;

        @AttributeDefinition(description = "Messages in flight at once per target.", min = "1")
        int windowPerTarget() default 256;

        @AttributeDefinition(description = "How long one send waits for the receiver's acknowledgement, in milliseconds.", min = "1")
        long ackTimeoutMillis() default 10_000;

        @AttributeDefinition(description = "Fallback poll of the drain, in milliseconds (it is normally woken by events).", min = "1")
        long pollIntervalMillis() default 1_000;

        @AttributeDefinition(description = "Done messages older than this are purged automatically, in milliseconds.", min = "1")
        long doneRetentionMillis() default 86_400_000L;

        @AttributeDefinition(description = "How long the receiver remembers a message id for dedup, in milliseconds (default 7 days).", min = "1")
        long inboxRetentionMillis() default 604_800_000L;

        @AttributeDefinition(description = "Size limit of the database in bytes (STORAGE_FULL beyond it); 0 for none.", min = "0")
        long maxDatabaseBytes() default 0;

        @AttributeDefinition(description = "Most operations committed in one transaction (group commit).", min = "1")
        int maxBatch() default 4096;

        @AttributeDefinition(description = "After a receiver crash, forget inbox records whose handler may not have finished, "
                + "so a re-send is delivered again (at-least-once, the default); false: never twice, but such a message may be lost. "
                + "See [lifecycle.md](lifecycle.md).")
        boolean redeliverInDoubt() default true;
    }

    private volatile Router router;
    private OutboxService service;
    private ScheduledExecutorService scheduler;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindRouter(Router r) {
        router = r;
        OutboxService s = service;
        if (s != null) {
            s.setRouter(r);
        }
    }

    void unbindRouter(Router r) {
        if (router == r) {
            router = null;
            OutboxService s = service;
            if (s != null) {
                s.setRouter(null);
            }
        }
    }

    @Activate
    void activate(Config config, BundleContext context) {
        String dataDir = Optional.ofNullable(context.getProperty("meshwork.data.dir")).orElse("data");
        Path file = config.databaseFile().isBlank() ? Path.of(dataDir, "outbox.db") : Path.of(config.databaseFile());
        OutboxConfig oc;
        try {
            oc = new OutboxConfig(file, config.synchronous(), config.maxPayloadBytes(), config.maxAttempts(),
                    BackoffPolicy.fullJitter(Duration.ofMillis(config.backoffBaseMillis()), Duration.ofMillis(config.backoffCapMillis())),
                    config.windowPerTarget(), Duration.ofMillis(config.ackTimeoutMillis()), Duration.ofMillis(config.pollIntervalMillis()),
                    Duration.ofMillis(config.doneRetentionMillis()), Duration.ofMillis(config.inboxRetentionMillis()),
                    config.maxDatabaseBytes(), config.maxBatch(), config.redeliverInDoubt());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PID + ": " + e.getMessage(), e);
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "meshwork-outbox-drain");
            t.setDaemon(true);
            return t;
        });
        SecureRandom seed = new SecureRandom();
        try {
            service = new OutboxService(oc, InstantSource.system(), System::nanoTime, scheduler, seed::nextDouble);
        } catch (RuntimeException e) {
            scheduler.shutdownNow();
            throw e;
        }
        service.setRouter(router);
    }

    @Deactivate
    void deactivate() {
        service.close();
        scheduler.shutdownNow();
    }

    @Override
    public OutboxReceipt enqueue(OutboxRequest request) {
        return service.enqueue(request);
    }

    @Override
    public CompletableFuture<OutboxReceipt> enqueueAsync(OutboxRequest request) {
        return service.enqueueAsync(request);
    }

    @Override
    public Optional<OutboxMessage> get(String messageId) {
        return service.get(messageId);
    }

    @Override
    public List<OutboxMessage> list(OutboxState state, int limit) {
        return service.list(state, limit);
    }

    @Override
    public boolean retry(String messageId) {
        return service.retry(messageId);
    }

    @Override
    public boolean abort(String messageId) {
        return service.abort(messageId);
    }

    @Override
    public int purgeDone(Duration age) {
        return service.purgeDone(age);
    }

    @Override
    public OutboxStats stats() {
        return service.stats();
    }

    /** Inbox counters, for the Gogo command. */
    Map<String, Long> inboxCounters() {
        return service.inboxCounters();
    }

    @Override
    public CompletionStage<Void> onMessage(InboundMessage message) {
        return service.inbox().onMessage(message);
    }

    @Override
    public void onPeerEvent(PeerEvent event) {
        service.onPeerEvent(event);
    }
}
