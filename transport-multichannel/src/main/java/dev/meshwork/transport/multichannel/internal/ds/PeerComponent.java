package dev.meshwork.transport.multichannel.internal.ds;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.Router;
import java.net.URI;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One configured peer ({@code dev.meshwork.peer~NAME}): adds it to the router while the
 * configuration exists and removes it when the configuration is deleted.
 *
 * <p>A changed configuration is applied in place ({@link Modified}): the link, its queue and its
 * open channels stay, and channels waiting in backoff (say, after the peer refused a key that was
 * just corrected) dial at once. Only a change of the node id replaces the peer.
 *
 * <p><b>Start and stop</b> (docs/lifecycle.md): it needs the {@link Router}, so SCR activates it
 * after the router registers (the router is not ready until every such configuration is in) and
 * deactivates it before the router stops. A peer removed then, while the bundle or the framework
 * is stopping, fails its held messages with a retryable {@code SHUT_DOWN}; a peer whose
 * configuration is deleted while the node runs fails them with a retryable {@code UNKNOWN_PEER}.
 */
@Component(service = {}, configurationPid = "dev.meshwork.peer", configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = PeerComponent.Config.class, factory = true)
public final class PeerComponent {

    @ObjectClassDefinition(id = "dev.meshwork.peer", name = "Meshwork peer",
            description = "A peer node this node keeps a link to.")
    public @interface Config {
        @AttributeDefinition(description = "The peer's node id.")
        String node();

        @AttributeDefinition(description = "The peer's URLs, in order of preference when RTTs are equal.")
        String[] urls();

        @AttributeDefinition(description = "The peer's Ed25519 key, Base64 of its X.509 encoding; empty: the node's trustedKeys decide.")
        String publicKey() default "";
    }

    @Reference
    private Router router;

    private NodeId node;

    @Activate
    void activate(Config config, Map<String, Object> props) {
        apply(config, props);
    }

    @Modified
    void modified(Config config, Map<String, Object> props) {
        apply(config, props);
    }

    private void apply(Config config, Map<String, Object> props) {
        String pid = String.valueOf(props.getOrDefault("service.pid", "dev.meshwork.peer"));
        String name = pid.contains("~") ? pid.substring(pid.indexOf('~') + 1) : config.node();
        try {
            NodeId next = NodeId.of(config.node());
            PeerConfig peer = new PeerConfig(next, name, Arrays.stream(config.urls()).map(String::trim).map(URI::create).toList(),
                    config.publicKey().isBlank() ? Optional.empty() : Optional.of(config.publicKey().trim()));
            if (node != null && !node.equals(next)) {
                router.removePeer(node);
            }
            node = next;
            router.addPeer(peer);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("dev.meshwork.peer~" + name + ": " + e.getMessage(), e);
        }
    }

    @Deactivate
    void deactivate() {
        if (node != null) {
            router.removePeer(node);
        }
    }
}
