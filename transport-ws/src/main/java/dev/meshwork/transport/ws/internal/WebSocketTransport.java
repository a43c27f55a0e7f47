package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionAcceptor;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.api.transport.TransportListener;
import java.net.URI;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

/**
 * The {@link Transport} service for {@code ws://} and {@code wss://} URLs.
 *
 * <p>Thin on purpose: it reads the configuration and hands it to a {@link WsTransportEngine}; a
 * configuration change restarts the component (and with it every connection), because event-loop
 * size and TLS material cannot change under live channels.
 */
@Component(service = Transport.class, configurationPid = WebSocketTransport.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {Transport.SCHEMES + "=ws", Transport.SCHEMES + "=wss"})
@Designate(ocd = TransportConfig.class)
public final class WebSocketTransport implements Transport {

    /** The configuration PID. */
    public static final String PID = "dev.meshwork.transport.ws";

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile NodeIdentity identity;

    private WsTransportEngine engine;

    @Activate
    void activate(BundleContext bundleContext, TransportConfig config) {
        String version = bundleContext.getBundle().getVersion().toString();
        engine = new WsTransportEngine(WsSettings.from(config, version), this::nodeId, System::nanoTime, InstantSource.system());
    }

    @Deactivate
    void deactivate() {
        engine.close();
    }

    private Optional<String> nodeId() {
        NodeIdentity current = identity;
        return current == null ? Optional.empty() : Optional.of(current.nodeId().value());
    }

    @Override
    public CompletableFuture<Connection> dial(URI uri, DialOptions options, ConnectionHandler handler) {
        return engine.dial(uri, options, handler);
    }

    @Override
    public CompletableFuture<TransportListener> listen(URI uri, ConnectionAcceptor acceptor) {
        return engine.listen(uri, acceptor);
    }
}
