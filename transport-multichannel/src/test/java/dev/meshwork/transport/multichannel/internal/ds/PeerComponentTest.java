package dev.meshwork.transport.multichannel.internal.ds;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.Router;
import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A changed peer configuration is applied in place; only a new node id replaces the peer. */
class PeerComponentTest {

    private final List<String> calls = new ArrayList<>();

    private Router recordingRouter() {
        return (Router) Proxy.newProxyInstance(Router.class.getClassLoader(), new Class<?>[] {Router.class},
                (p, m, args) -> switch (m.getName()) {
                    case "addPeer" -> {
                        PeerConfig c = (PeerConfig) args[0];
                        calls.add("add " + c.node() + " " + c.urls() + " " + c.publicKey().orElse("-"));
                        yield null;
                    }
                    case "removePeer" -> {
                        calls.add("remove " + args[0]);
                        yield true;
                    }
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    private static PeerComponent.Config config(String node, String url, String key) {
        Map<String, Object> values = Map.of("node", node, "urls", new String[] {url}, "publicKey", key);
        return (PeerComponent.Config) Proxy.newProxyInstance(PeerComponent.Config.class.getClassLoader(),
                new Class<?>[] {PeerComponent.Config.class}, (p, m, args) -> values.get(m.getName()));
    }

    @Test
    void appliesAChangedConfigurationInPlaceAndReplacesThePeerOnlyWhenItsNodeIdChanges() throws Exception {
        PeerComponent component = new PeerComponent();
        Field f = PeerComponent.class.getDeclaredField("router");
        f.setAccessible(true);
        f.set(component, recordingRouter());
        Map<String, Object> props = Map.of("service.pid", "dev.meshwork.peer~gamma");

        component.activate(config("gamma", "ws://10.0.0.3:7400/mesh", ""), props);
        component.modified(config("gamma", "ws://10.0.0.3:7400/mesh", "KEY"), props);
        component.modified(config("gamma2", "ws://10.0.0.4:7400/mesh", "KEY"), props);
        component.deactivate();

        assertEquals(List.of(
                "add gamma [ws://10.0.0.3:7400/mesh] -",
                "add gamma [ws://10.0.0.3:7400/mesh] KEY", // in place: link, queue and channels stay
                "remove gamma",
                "add gamma2 [ws://10.0.0.4:7400/mesh] KEY",
                "remove gamma2"), calls);
    }
}
