package dev.meshwork.transport.multichannel.internal.ds;

import dev.meshwork.api.NodeId;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's view of its node's peer configuration: which node ids ConfigAdmin holds a
 * {@code dev.meshwork.peer} factory configuration for, whether every one of them has been added
 * (the router is <em>ready</em>), and whether an id the router does not hold is nevertheless
 * configured (a send to it fails retryable, not as an unknown peer).
 *
 * <p>Why read ConfigAdmin instead of waiting for a signal: the configuration is applied by SCR
 * one {@code PeerComponent} at a time, asynchronously, and no component knows how many will
 * come. ConfigAdmin knows, in any container that has one. Without ConfigAdmin the router is
 * ready at once (peers come only through {@code Router.addPeer}).
 *
 * <p>A configuration whose peer never arrives (its {@code PeerComponent} refused it) must not
 * hold the node back for ever: a refusal seen by the router counts as settled, and after
 * {@link #GRACE} the router is ready anyway, with one warning naming what is missing.
 */
final class ConfiguredPeers {

    static final String FACTORY_PID = "dev.meshwork.peer";
    static final Duration GRACE = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(ConfiguredPeers.class);

    private final Supplier<ConfigurationAdmin> admin;
    private final LongSupplier nanoTime;
    private final Set<NodeId> refused = ConcurrentHashMap.newKeySet();
    private volatile long since;
    private volatile boolean ready;

    ConfiguredPeers(Supplier<ConfigurationAdmin> admin, LongSupplier nanoTime) {
        this.admin = admin;
        this.nanoTime = nanoTime;
        this.since = nanoTime.getAsLong();
    }

    /** A new core: readiness is earned again. */
    void restart() {
        ready = false;
        since = nanoTime.getAsLong();
    }

    /** The router refused this peer's configuration: it will not arrive, do not wait for it. */
    void refused(NodeId node) {
        refused.add(node);
    }

    /** The peer was added after all (a corrected configuration). */
    void accepted(NodeId node) {
        refused.remove(node);
    }

    /**
     * Whether every configured peer is in {@code added}. Latched once true with ConfigAdmin
     * present; without it, true but not latched (a ConfigAdmin that registers late is still
     * waited for).
     */
    boolean isReady(Supplier<Collection<NodeId>> addedNow) {
        if (ready) {
            return true;
        }
        ConfigurationAdmin ca = admin.get();
        if (ca == null) {
            return true;
        }
        Collection<NodeId> added = addedNow.get();
        Set<NodeId> missing = configured(ca);
        missing.removeAll(added);
        missing.removeAll(refused);
        if (missing.isEmpty()) {
            ready = true;
            LOG.info("router ready: every configured peer is added ({})", added.size());
        } else if (nanoTime.getAsLong() - since > GRACE.toNanos()) {
            ready = true;
            LOG.warn("router ready without configured peers {}: their configuration was not applied within {} s",
                    missing, GRACE.toSeconds());
        }
        return ready;
    }

    /** Whether ConfigAdmin holds a peer configuration for {@code node}. */
    boolean isConfigured(NodeId node) {
        ConfigurationAdmin ca = admin.get();
        return ca != null && configured(ca).contains(node);
    }

    private static Set<NodeId> configured(ConfigurationAdmin ca) {
        Set<NodeId> ids = new LinkedHashSet<>();
        Configuration[] all;
        try {
            all = ca.listConfigurations("(" + ConfigurationAdmin.SERVICE_FACTORYPID + "=" + FACTORY_PID + ")");
        } catch (IOException | InvalidSyntaxException | IllegalStateException e) {
            LOG.debug("cannot list {} configurations: {}", FACTORY_PID, e.toString());
            return ids;
        }
        if (all == null) {
            return ids;
        }
        for (Configuration c : all) {
            try {
                Object node = c.getProperties() == null ? null : c.getProperties().get("node");
                if (node instanceof String s && NodeId.isValid(s.trim())) {
                    ids.add(NodeId.of(s.trim()));
                }
            } catch (IllegalStateException e) {
                // deleted while we looked: not configured any more
            }
        }
        return ids;
    }
}
