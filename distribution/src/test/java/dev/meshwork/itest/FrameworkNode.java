package dev.meshwork.itest;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Router;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Optional;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The node running in the test's own framework, seen through its services: the {@link Router} and
 * {@link NodeIdentity} (tracked, so a restarted component is followed), ConfigAdmin to give it a
 * free listen port, and its bundles by symbolic name.
 */
final class FrameworkNode implements AutoCloseable {

    private static final Duration SERVICE_WAIT = Duration.ofSeconds(20);

    private final BundleContext context;
    private final ServiceTracker<Router, Router> routers;
    private final ServiceTracker<NodeIdentity, NodeIdentity> identities;
    private final ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> configAdmins;

    FrameworkNode(BundleContext context) {
        this.context = context;
        routers = new ServiceTracker<>(context, Router.class, null);
        identities = new ServiceTracker<>(context, NodeIdentity.class, null);
        configAdmins = new ServiceTracker<>(context, ConfigurationAdmin.class, null);
        routers.open();
        identities.open();
        configAdmins.open();
    }

    /**
     * Makes the node listen on a free loopback port instead of the default 7400 (other builds on
     * the machine may hold it), once per framework, and returns the URL it listens on.
     */
    URI listenOnFreePort() throws IOException {
        return listenOnFreePort(new String[0]);
    }

    /**
     * As {@link #listenOnFreePort()}, also listening on {@code extra} URLs (of a transport that may
     * register later: the router listens on them once it does).
     */
    URI listenOnFreePort(String... extra) throws IOException {
        return listen(false, extra);
    }

    /** Moves the node to a new free port even if it was configured before (the router restarts). */
    URI listenOnNewFreePort() throws IOException {
        return listen(true);
    }

    private URI listen(boolean again, String... extra) throws IOException {
        ConfigurationAdmin admin = service(configAdmins, "ConfigurationAdmin");
        Configuration config = admin.getConfiguration("dev.meshwork.node", "?");
        if (again || config.getProperties() == null || config.getProperties().get("listen") == null) {
            // Not port 0: peers are configured with this URL and the router must come back on the
            // same port when its transport restarts (DynamicsUnderLoadTest), so the port is fixed
            // in the configuration by construction. It stays held by this socket until the moment
            // the configuration goes to the router, which binds it a few milliseconds later.
            try (ServerSocket held = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                Dictionary<String, Object> props = new Hashtable<>();
                List<String> listen = new ArrayList<>();
                listen.add("ws://127.0.0.1:" + held.getLocalPort() + "/mesh");
                listen.addAll(List.of(extra));
                props.put("listen", listen.toArray(String[]::new));
                held.close();
                config.update(props);
            }
        }
        String url = ((String[]) config.getProperties().get("listen"))[0];
        int port = URI.create(url).getPort();
        Waits.until("the router to listen on port " + port, SERVICE_WAIT,
                () -> router().listenUris().stream().anyMatch(u -> u.getPort() == port),
                () -> String.valueOf(routers.getService() == null ? "no router" : routers.getService().listenUris()));
        return URI.create(url);
    }

    Router router() {
        return service(routers, "Router");
    }

    NodeIdentity identity() {
        return service(identities, "NodeIdentity");
    }

    private static <T> T service(ServiceTracker<T, T> tracker, String name) {
        try {
            T service = tracker.waitForService(SERVICE_WAIT.toMillis());
            if (service == null) {
                throw new AssertionError("no " + name + " service within " + SERVICE_WAIT);
            }
            return service;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + name, e);
        }
    }

    Optional<PeerInfo> peer(NodeId node) {
        return router().peer(node);
    }

    LinkState linkState(NodeId node) {
        return peer(node).map(PeerInfo::state).orElse(LinkState.REMOVED);
    }

    void awaitLink(NodeId node, LinkState state, Duration timeout) {
        Waits.until("the link to " + node + " to be " + state, timeout, () -> linkState(node) == state,
                () -> String.valueOf(peer(node)));
    }

    Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("no bundle " + symbolicName));
    }

    @Override
    public void close() {
        routers.close();
        identities.close();
        configAdmins.close();
    }
}
