package dev.meshwork.supervisor.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.meshwork.api.lifecycle.ProbeContext;
import dev.meshwork.api.lifecycle.ProbeResult;
import dev.meshwork.supervisor.internal.probe.HttpProbe;
import dev.meshwork.supervisor.internal.probe.LogProbe;
import dev.meshwork.supervisor.internal.probe.TcpProbe;
import dev.meshwork.supervisor.internal.probe.WsProbe;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The built-in probes against real loopback servers, and the port owner lookup in /proc. */
class ProbesTest {

    private record Ctx(Map<String, String> parameters, List<String> outputSinceSpawn) implements ProbeContext {
        @Override
        public String gateway() {
            return "gw";
        }

        @Override
        public Duration timeout() {
            return Duration.ofSeconds(2);
        }

        @Override
        public OptionalLong pid() {
            return OptionalLong.empty();
        }
    }

    private static ProbeResult run(dev.meshwork.api.lifecycle.Probe p, Map<String, String> params) throws Exception {
        return p.probe(new Ctx(params, List.of())).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void tcpProbePassesOnAnOpenPortAndFailsOnAClosedOne() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertTrue(run(new TcpProbe(), Map.of("port", "" + server.getLocalPort())).ok());
        }
        ProbeResult r = run(new TcpProbe(), Map.of("port", "" + closedPort()));
        assertFalse(r.ok());
    }

    @Test
    void httpProbeChecksTheStatus() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/health", ex -> {
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.createContext("/sick", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        server.start();
        try {
            String port = "" + server.getAddress().getPort();
            assertTrue(run(new HttpProbe(), Map.of("port", port, "path", "/health")).ok());
            ProbeResult sick = run(new HttpProbe(), Map.of("port", port, "path", "/sick"));
            assertFalse(sick.ok());
            assertTrue(sick.detail().contains("503"), sick.detail());
            assertTrue(run(new HttpProbe(), Map.of("url", "http://127.0.0.1:" + port + "/sick", "status", "503")).ok());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void wsProbeCompletesAHandshake() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                    String key = null;
                    for (String line; (line = in.readLine()) != null && !line.isEmpty();) {
                        if (line.toLowerCase().startsWith("sec-websocket-key:")) {
                            key = line.substring(line.indexOf(':') + 1).trim();
                        }
                    }
                    String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                            .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    s.getInputStream().read();
                } catch (Exception e) {
                    // the probe aborts the connection: expected
                }
            });
            t.setDaemon(true);
            t.start();
            ProbeResult r = run(new WsProbe(), Map.of("url", "ws://127.0.0.1:" + server.getLocalPort() + "/gateway"));
            assertTrue(r.ok(), r.detail());
        }
        assertFalse(run(new WsProbe(), Map.of("port", "" + closedPort())).ok());
    }

    @Test
    void logProbeWaitsForAMatchingLine() throws Exception {
        List<String> output = new CopyOnWriteArrayList<>(List.of("booting"));
        var f = new LogProbe().probe(new Ctx(Map.of("pattern", "listening on \\d+"), output)).toCompletableFuture();
        assertFalse(f.isDone());
        output.add("listening on 8080");
        ProbeResult r = f.get(5, TimeUnit.SECONDS);
        assertTrue(r.ok());
        assertTrue(r.detail().contains("listening on 8080"));
    }

    @Test
    void portOwnerIsFoundInProc() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            var holder = new ProcessTable().listener(server.getLocalPort()).orElseThrow();
            assertTrue(holder.pid().isPresent());
            assertTrue(holder.pid().getAsLong() == ProcessHandle.current().pid(), holder.describe());
            assertTrue(holder.command().contains("java"), holder.command());
        }
        assertTrue(new ProcessTable().listener(closedPort()).isEmpty());
    }
}
