package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar meshwork.jar identity}: the node's keys before its first start, the same ones
 * the node then uses, and never while a node owns the data directory.
 */
class IdentityIT {

    private static final Path JAVA = NodeProcess.javaExecutables().get(0);
    private static final Pattern CONSOLE = Pattern.compile("node console at (http://\\S+/)");

    @TempDir
    Path work;

    private List<String> identity(int expectedExit, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("identity"));
        command.addAll(List.of(args));
        try (NodeProcess identity = NodeProcess.start(JAVA, work, command.toArray(String[]::new))) {
            assertEquals(expectedExit, identity.awaitExit(Duration.ofSeconds(30)), "stderr: " + identity.stderr());
            return expectedExit == 0 ? identity.stdout() : identity.stderr();
        }
    }

    private Path nodeConfig(String idLine) throws Exception {
        return Files.writeString(work.resolve("node.yaml"),
                "node:\n" + idLine + "  listen:\n    - \"ws://127.0.0.1:0/mesh\"\nconsole:\n  port: 0\n");
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    @Test
    void createsTheKeysOnceAndANodeStartedLaterOnTheDirectoryUsesThem() throws Exception {
        Path data = work.resolve("fresh");
        List<String> first = identity(0, "--data", data.toString());
        List<String> second = identity(0, "--data", data.toString());
        assertEquals(first, second, "the second run prints the keys the first one created");
        assertEquals(2, first.size(), first.toString());
        assertTrue(first.get(0).matches("node: node-[0-9a-f]{16}"), first.get(0));
        assertTrue(first.get(1).startsWith("publicKey: "), first.get(1));
        String publicKey = first.get(1).substring("publicKey: ".length());
        assertTrue(ValueChecks.ed25519(publicKey).isPresent(), "an Ed25519 key as publicKey takes it: " + publicKey);
        assertEquals(publicKey, Base64.getEncoder().encodeToString(Files.readAllBytes(data.resolve("identity/node.pub"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("identity/node.key"))));

        try (NodeProcess node = NodeProcess.start(JAVA, work, "--config", nodeConfig("").toString(), "--data", data.toString())) {
            node.awaitStdout(l -> l.startsWith("Meshwork node "), Duration.ofSeconds(30));
            Matcher console = CONSOLE.matcher(node.awaitStderr(l -> CONSOLE.matcher(l).find(), Duration.ofSeconds(10)));
            assertTrue(console.find());
            HttpResponse<String> status = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(console.group(1)).resolve("status.json")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, status.statusCode());
            assertEquals(publicKey, field(status.body(), "publicKey"), "the node uses the key identity created");
            assertEquals(first.get(0).substring("node: ".length()), field(status.body(), "node"), "and the id it printed");
            assertEquals(0, node.terminate(Duration.ofSeconds(20)));
        }
    }

    @Test
    void printsTheConfiguredNodeIdAndIsRefusedWhileANodeOwnsTheDirectory() throws Exception {
        Path data = work.resolve("owned");
        Path config = nodeConfig("  id: alpha\n");
        List<String> before = identity(0, "--config", config.toString(), "--data", data.toString());
        assertEquals("node: alpha", before.get(0));

        try (NodeProcess node = NodeProcess.start(JAVA, work, "--config", config.toString(), "--data", data.toString())) {
            node.awaitStdout(l -> l.startsWith("Meshwork node alpha"), Duration.ofSeconds(30));
            List<String> errors = identity(1, "--data", data.toString());
            assertEquals(1, errors.size(), "exactly one line: " + errors);
            assertTrue(errors.get(0).startsWith("meshwork: ") && errors.get(0).contains("in use by another node")
                    && errors.get(0).contains("pid " + node.pid()), errors.get(0));
            assertEquals(0, node.terminate(Duration.ofSeconds(20)));
        }
        assertEquals(before, identity(0, "--config", config.toString(), "--data", data.toString()), "unchanged by the node's run");
    }
}
