package dev.meshwork.transport.ws.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.testkit.Await;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interop with the Node.js {@code ws} package (what the reference systems use): a {@code ws}
 * client against the Meshwork server and the Meshwork client against a {@code ws} server. The
 * test installs {@code ws@8.23.0} into {@code target/node} itself; it is skipped only when
 * {@code node} is not installed.
 */
class NodeWsInteropTest {

    static final String WS_VERSION = "8.23.0";
    static final int LIMIT = 4096;
    static Path nodeModules;

    @BeforeAll
    static void installWs() throws Exception {
        Assumptions.assumeTrue(commandWorks("node", "--version"), "node is not installed: skipping the ws interop tests");
        Path prefix = Path.of("target", "node").toAbsolutePath();
        nodeModules = prefix.resolve("node_modules");
        if (!Files.exists(nodeModules.resolve("ws").resolve("package.json"))) {
            Files.createDirectories(prefix);
            Process npm = new ProcessBuilder("npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
                    prefix.toString(), "ws@" + WS_VERSION).redirectErrorStream(true).start();
            String output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(npm.waitFor(180, TimeUnit.SECONDS) && npm.exitValue() == 0, "npm install ws failed: " + output);
        }
    }

    private static boolean commandWorks(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** A node child process whose stdout lines are collected. */
    static final class NodeProcess implements AutoCloseable {
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();

        NodeProcess(String script, String... args) throws Exception {
            Path scriptFile = Path.of("target", "node", script).toAbsolutePath();
            try (var in = NodeWsInteropTest.class.getResourceAsStream("/interop/" + script)) {
                Files.write(scriptFile, in.readAllBytes());
            }
            String[] command = new String[args.length + 2];
            command[0] = "node";
            command[1] = scriptFile.toString();
            System.arraycopy(args, 0, command, 2, args.length);
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
            builder.environment().put("NODE_PATH", nodeModules.toString());
            process = builder.start();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (Exception ignored) {
                    // process ended
                }
            }, "node-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        String await(String event) {
            return Await.value("node event " + event + " (so far: " + lines + ")", Duration.ofSeconds(15),
                    () -> lines.stream().filter(l -> l.contains("\"event\":\"" + event + "\"")).findFirst().orElse(null));
        }

        @Override
        public void close() {
            process.destroy();
        }
    }

    private static String b64(byte[] message) {
        return Base64.getEncoder().encodeToString(message);
    }

    @Test
    void nodeWsClientCompressingEveryMessageIsEchoedAndItsDeflateBombRefused() throws Exception {
        WsSettings settings = Fixtures.settings().withMaxFrameBytes(LIMIT).withPermessageDeflate(true);
        try (WsTransportEngine engine = Fixtures.engine(settings)) {
            TransportListener listener = Fixtures.listen(engine, "ws", c -> new Recorder(true));
            byte[] compressible = "compress me ".repeat(250).getBytes(StandardCharsets.UTF_8);
            assertTrue(compressible.length < LIMIT);
            // 256 KiB of zeros: a few hundred bytes on the wire, 64 times the limit once inflated
            try (NodeProcess node = new NodeProcess("deflate-client.cjs", listener.uri().toString(), b64(compressible),
                    String.valueOf(LIMIT * 64))) {
                assertTrue(node.await("open").contains("permessage-deflate"), "negotiated: " + node.lines);
                assertTrue(node.await("echo").contains("\"ok\":true"), "echo: " + node.lines);
                assertTrue(node.await("closeOverLimit").contains("\"code\":1009"), "bomb refused: " + node.lines);
            }
            Await.until("counted as oversized", Duration.ofSeconds(5),
                    () -> engine.counters().get(TransportCounters.Event.OVERSIZED_FRAMES) == 1);
        }
    }

    @Test
    void nodeWsClientTalksToMeshworkServer() throws Exception {
        WsSettings settings = Fixtures.settings().withMaxFrameBytes(LIMIT).withLiveness(Duration.ofMillis(100), Duration.ofSeconds(5));
        List<CloseReason> serverCloses = new CopyOnWriteArrayList<>();
        List<Duration> serverRtts = new CopyOnWriteArrayList<>();
        try (WsTransportEngine engine = Fixtures.engine(settings)) {
            TransportListener listener = Fixtures.listen(engine, "ws", c -> new Recorder(true) {
                @Override
                public void onMessage(Connection connection, byte[] message) {
                    if (Fixtures.tag(message).equals("close-me")) {
                        connection.close(1000, "server-bye");
                    } else {
                        super.onMessage(connection, message);
                    }
                }

                @Override
                public void onRtt(Connection connection, Duration sample) {
                    serverRtts.add(sample);
                }

                @Override
                public void onClosed(Connection connection, CloseReason reason) {
                    serverCloses.add(reason);
                }
            });
            try (NodeProcess node = new NodeProcess("client.cjs", listener.uri().toString(), b64(Fixtures.messageOfSize(LIMIT)),
                    String.valueOf(LIMIT + 1))) {
                assertTrue(node.await("open").contains("\"protocol\":\"meshwork.v1\""), "subprotocol negotiated");
                assertTrue(node.await("echo").contains("\"ok\":true"), "binary echo");
                assertTrue(node.await("pong").contains("\"data\":\"abc\""), "Meshwork answers ws pings with the payload");
                assertTrue(node.await("echoAtLimit").contains("\"ok\":true"), "a message exactly at the limit passes");
                assertTrue(node.await("closeOverLimit").contains("\"code\":1009"), "one byte over closes with 1009");
                assertTrue(node.await("closedByNode").contains("\"code\":1000"));
                String byServer = node.await("closedByServer");
                assertTrue(byServer.contains("\"code\":1000") && byServer.contains("server-bye"), byServer);
                Await.until("server saw the node's close", Duration.ofSeconds(5), () -> serverCloses.stream()
                        .anyMatch(r -> r.code() == 1000 && r.text().equals("node-bye") && r.byPeer() && r.intentional()));
                assertTrue(serverCloses.stream().anyMatch(r -> r.kind() == CloseReason.Kind.TOO_BIG && r.code() == 1009));
                assertFalse(serverRtts.isEmpty(), "ws answers Meshwork's pings: RTT measured");
            }
        }
    }

    @Test
    void meshworkClientTalksToNodeWsServer() throws Exception {
        byte[] atLimit = Fixtures.messageOfSize(LIMIT);
        try (NodeProcess node = new NodeProcess("server.cjs", String.valueOf(LIMIT), b64(atLimit))) {
            Matcher m = Pattern.compile("\"port\":(\\d+)").matcher(node.await("listening"));
            assertTrue(m.find());
            URI uri = URI.create("ws://127.0.0.1:" + m.group(1) + "/");
            WsSettings big = Fixtures.settings().withMaxFrameBytes(2 * LIMIT).withLiveness(Duration.ofMillis(100), Duration.ofSeconds(5));
            try (WsTransportEngine engine = Fixtures.engine(big)) {
                // echo, pings both ways, the ws server's limit
                Recorder recorder = new Recorder();
                Connection c = Fixtures.dial(engine, uri, recorder);
                c.send(Fixtures.message("hello", 100)).get(5, TimeUnit.SECONDS);
                Await.until("echo from ws", Duration.ofSeconds(5), () -> recorder.messages.size() == 1);
                assertEquals("hello", Fixtures.tag(recorder.messages.get(0)));
                assertTrue(node.await("pong").contains("xyz"), "Meshwork answers ws pings");
                Await.until("RTT from ws pongs", Duration.ofSeconds(5), () -> c.rtt().isPresent());
                c.send(atLimit).get(5, TimeUnit.SECONDS);
                Await.until("at-limit echo", Duration.ofSeconds(5), () -> recorder.messages.size() == 2);
                assertArrayEquals(atLimit, recorder.messages.get(1));
                c.send(Fixtures.messageOfSize(LIMIT + 1)).get(5, TimeUnit.SECONDS);
                CloseReason overLimit = recorder.closed.get(5, TimeUnit.SECONDS);
                assertEquals(1009, overLimit.code());
                assertEquals(CloseReason.Kind.TOO_BIG, overLimit.kind());
                assertTrue(overLimit.byPeer());

                // close by us, with code and reason
                Connection c2 = Fixtures.dial(engine, uri, new Recorder());
                assertTrue(c2.close(1000, "mesh-bye").get(5, TimeUnit.SECONDS).intentional());
                Await.until("ws saw our close", Duration.ofSeconds(5),
                        () -> node.lines.stream().anyMatch(l -> l.contains("\"code\":1000") && l.contains("mesh-bye")));

                // close by ws with an application code
                Recorder r3 = new Recorder();
                Connection c3 = Fixtures.dial(engine, uri, r3);
                c3.send(new byte[2]); // 2 bytes: ws closes
                CloseReason byNode = r3.closed.get(5, TimeUnit.SECONDS);
                assertEquals(4001, byNode.code());
                assertEquals("node-bye", byNode.text());
                assertTrue(byNode.byPeer());
            }
            WsSettings small = Fixtures.settings().withMaxFrameBytes(LIMIT);
            try (WsTransportEngine engine = Fixtures.engine(small)) {
                // ws sends exactly at our limit, then one byte over
                Recorder recorder = new Recorder();
                Connection c = Fixtures.dial(engine, uri, recorder);
                c.send(new byte[5]); // 5 bytes: ws answers with a message at our limit, then one over
                CloseReason reason = recorder.closed.get(5, TimeUnit.SECONDS);
                assertEquals(1, recorder.messages.size(), "the at-limit message was delivered");
                assertArrayEquals(atLimit, recorder.messages.get(0));
                assertEquals(CloseReason.Kind.TOO_BIG, reason.kind(), reason.toString());
                assertEquals(1009, reason.code());
                Await.until("ws saw 1009: " + node.lines, Duration.ofSeconds(5), () -> node.lines.stream().anyMatch(l -> l.contains("\"code\":1009")));
            }
        }
    }
}
