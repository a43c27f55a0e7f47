package dev.meshwork.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.SendOptions;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.util.tracker.ServiceTracker;

/**
 * An extension bundle dropped into the running node's {@code bundles/} directory is picked up
 * without a restart: its Transport for {@code tcp://} registers, the node listens on its tcp URL,
 * and messages flow both ways over it to a peer node (a separate process that carries the same
 * extension) reachable only through a {@code tcp://} URL, into the extension's MessageHandler on
 * each side and, durably, through the outbox. Removing the file uninstalls it: the tcp link goes
 * down with a typed failure for senders, and the node stays healthy, still serving its ws peer.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DropInExtensionTest {

    private static final String TCP_TRANSPORT = "(&(objectClass=dev.meshwork.api.transport.Transport)(meshwork.transport.schemes=tcp))";
    private static final String EXTENSION_BSN = "com.example.meshwork.tcp";
    private static final String GREETINGS = "example.greetings";
    private static final String PROBE_TOPIC = "meshwork.console.probe";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int GREETING_COUNT = 20;
    private static final int DURABLE_COUNT = 10;

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return MeshworkRuntime.options(name -> true);
    }

    private boolean tcpTransportRegistered() {
        try {
            return context.getServiceReferences((String) null, TCP_TRANSPORT) != null;
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path extensionJar() {
        Path jar = Path.of(System.getProperty("meshwork.example.jar", "target/example/example-extension.jar"));
        assertTrue("the example extension was built: " + jar, Files.isRegularFile(jar));
        return jar;
    }

    @Test
    public void aDroppedInExtensionCarriesMessagesOverTcpLiveAndItsRemovalLeavesTheNodeHealthy() throws Exception {
        assertFalse("no tcp transport before the drop-in", tcpTransportRegistered());
        // The framework node's tcp port is known in advance by construction: the peer is told it
        // before the node can bind it (no tcp transport until the drop-in). This socket holds it
        // until the moment of the drop-in.
        ServerSocket frameworkTcpHeld = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        int frameworkTcpPort = frameworkTcpHeld.getLocalPort();
        URI frameworkTcp = URI.create("tcp://127.0.0.1:" + frameworkTcpPort);
        try (frameworkTcpHeld;
                FrameworkNode node = new FrameworkNode(context);
                PeerProcess wsPeer = new PeerProcess("ws-peer");
                PeerProcess tcpPeer = new PeerProcess("tcp-peer")) {
            URI frameworkWs = node.listenOnFreePort(frameworkTcp.toString());
            String frameworkId = node.identity().nodeId().value();
            String frameworkKey = node.identity().publicKeyBase64();

            // a peer over the node's own WebSocket transport, to show the node keeps serving it
            wsPeer.start(List.of(), frameworkId, frameworkWs, frameworkKey);
            NodeId wsPeerId = NodeId.of(wsPeer.id);
            node.router().addPeer(new PeerConfig(wsPeerId, wsPeer.id, List.of(wsPeer.wsUrl()), Optional.of(wsPeer.publicKey())));
            node.awaitLink(wsPeerId, LinkState.UP, WAIT);

            // a peer that carries the extension too, and knows the framework node only by tcp
            Files.createDirectories(tcpPeer.bundlesDir());
            Files.copy(extensionJar(), tcpPeer.bundlesDir().resolve("example-extension.jar"));
            tcpPeer.start(List.of("tcp://127.0.0.1:0"), frameworkId, frameworkTcp, frameworkKey);
            URI tcpPeerUrl = tcpPeer.listenUrl("tcp", WAIT);
            NodeId tcpPeerId = NodeId.of(tcpPeer.id);
            PeerConfig tcpOnly = new PeerConfig(tcpPeerId, tcpPeer.id, List.of(tcpPeerUrl), Optional.of(tcpPeer.publicKey()));
            // Router.addPeer's Javadoc promises IllegalArgumentException for a scheme no transport
            // serves; the router accepts the peer and waits for a transport instead (reported)
            node.router().addPeer(tcpOnly);
            assertTrue("no link over tcp before the drop-in", node.linkState(tcpPeerId) != LinkState.UP);

            // the drop-in, into the running node
            Path dropped = Path.of(context.getProperty("felix.fileinstall.dir")).resolve("example-extension.jar");
            frameworkTcpHeld.close();
            Files.copy(extensionJar(), dropped, StandardCopyOption.REPLACE_EXISTING);
            Waits.until("the extension's tcp Transport to register", WAIT, this::tcpTransportRegistered);
            Waits.until("the node to listen on " + frameworkTcp, WAIT,
                    () -> node.router().listenUris().stream().anyMatch(u -> u.getPort() == frameworkTcpPort),
                    () -> String.valueOf(node.router().listenUris()));

            node.awaitLink(tcpPeerId, LinkState.UP, WAIT);
            PeerInfo linked = node.peer(tcpPeerId).orElseThrow();
            assertEquals("the link runs over tcp: " + linked, "tcp",
                    linked.activeChannel().map(ChannelInfo::uri).map(URI::getScheme).orElse("none"));

            // the framework node to the peer's extension handler, acknowledged once it handled each
            for (int i = 1; i <= GREETING_COUNT; i++) {
                DeliveryResult result = node.router().send(tcpPeerId, GREETINGS, ("hello over tcp " + i).getBytes(StandardCharsets.UTF_8),
                        SendOptions.DEFAULT).get(15, TimeUnit.SECONDS);
                assertTrue("greeting " + i + " acknowledged", result.acknowledged());
            }
            String from = "from " + frameworkId + ": hello over tcp ";
            Waits.until("the peer's GreetingHandler to print all " + GREETING_COUNT + " greetings", WAIT,
                    () -> tcpPeer.stdout().stream().filter(l -> l.contains(from)).count() >= GREETING_COUNT, tcpPeer::output);
            for (int i = 1; i <= GREETING_COUNT; i++) {
                String suffix = from + i;
                assertEquals("greeting " + i + " handled once", 1, tcpPeer.stdout().stream().filter(l -> l.endsWith(suffix)).count());
            }

            // the peer back to the framework node's extension handler (the ack needs a handler for the topic)
            HttpResponse<String> back = tcpPeer.post("/send?target=" + frameworkId + "&topic=" + GREETINGS, "hello back over tcp");
            assertEquals(back.body(), 200, back.statusCode());
            assertTrue("acknowledged by the framework node's handler: " + back.body(), back.body().contains("\"acknowledged\":true"));

            // durable messages over the third-party transport
            ServiceTracker<Outbox, Outbox> outboxes = new ServiceTracker<>(context, Outbox.class, null);
            outboxes.open();
            try {
                Outbox outbox = outboxes.waitForService(20_000);
                assertNotNull("an Outbox service", outbox);
                for (int i = 0; i < DURABLE_COUNT; i++) {
                    outbox.enqueue(OutboxRequest.of(tcpPeerId, PROBE_TOPIC, ("durable " + i).getBytes(StandardCharsets.UTF_8)));
                }
            } finally {
                outboxes.close();
            }
            Waits.until("the peer's probe to receive the durable messages", WAIT,
                    () -> tcpPeer.probe()[1] >= DURABLE_COUNT, () -> Arrays.toString(tcpPeer.probe()));
            assertEquals("durable messages delivered once each", DURABLE_COUNT, tcpPeer.probe()[0]);

            // removal
            int peerErrLines = tcpPeer.stderr().size();
            Files.delete(dropped);
            Waits.until("the extension's tcp Transport to go away", WAIT, () -> !tcpTransportRegistered());
            // the service goes when the bundle stops; FileInstall uninstalls it right after
            Waits.until("the extension to be uninstalled", WAIT,
                    () -> Arrays.stream(context.getBundles()).noneMatch(b -> EXTENSION_BSN.equals(b.getSymbolicName())));
            Waits.until("the tcp link to go down", WAIT, () -> node.linkState(tcpPeerId) != LinkState.UP,
                    () -> String.valueOf(node.peer(tcpPeerId)));
            try {
                node.router().send(tcpPeerId, GREETINGS, "nobody carries this".getBytes(StandardCharsets.UTF_8),
                        SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(1))).get(10, TimeUnit.SECONDS);
                fail("a message to the tcp-only peer was delivered without a tcp transport");
            } catch (ExecutionException e) {
                assertTrue("a typed failure for the sender: " + e.getCause(), e.getCause() instanceof MeshworkException);
            }

            // the node is healthy: its bundles run, no component failed, the ws peer is still served
            for (Bundle bundle : context.getBundles()) {
                if (bundle.getSymbolicName() != null && bundle.getSymbolicName().startsWith("dev.meshwork.")) {
                    assertEquals(bundle.getSymbolicName() + " still active", Bundle.ACTIVE, bundle.getState());
                }
            }
            assertEquals("no failed component: " + failedComponents(), List.of(), failedComponents());
            assertEquals(LinkState.UP, node.linkState(wsPeerId));
            DeliveryResult overWs = node.router().send(wsPeerId, PROBE_TOPIC, "still here".getBytes(StandardCharsets.UTF_8),
                    SendOptions.DEFAULT).get(15, TimeUnit.SECONDS);
            assertTrue("the ws peer acknowledged", overWs.acknowledged());
            Waits.until("the ws peer's probe to count the message", WAIT, () -> wsPeer.probe()[0] == 1,
                    () -> Arrays.toString(wsPeer.probe()));
            // the peer saw its tcp channel close, and logged nothing as an error about it
            List<String> peerErrors = new ArrayList<>();
            List<String> err = tcpPeer.stderr();
            for (String line : err.subList(peerErrLines, err.size())) {
                if (line.contains("[ERROR]") || line.contains("Exception")) {
                    peerErrors.add(line);
                }
            }
            assertEquals("errors logged by the tcp peer after the removal", List.of(), peerErrors);

            node.router().removePeer(tcpPeerId);
            node.router().removePeer(wsPeerId);
        }
    }

    private List<String> failedComponents() throws InterruptedException {
        ServiceTracker<ServiceComponentRuntime, ServiceComponentRuntime> tracker =
                new ServiceTracker<>(context, ServiceComponentRuntime.class, null);
        tracker.open();
        try {
            ServiceComponentRuntime scr = tracker.waitForService(10_000);
            assertNotNull("SCR is running", scr);
            List<String> failed = new ArrayList<>();
            for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
                for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                    if (configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                        failed.add(description.name + ": " + configuration.failure);
                    }
                }
            }
            return failed;
        } finally {
            tracker.close();
        }
    }
}
