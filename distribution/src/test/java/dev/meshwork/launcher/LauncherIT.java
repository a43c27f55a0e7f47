package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The packaged launcher as a user runs it: no arguments, SIGTERM, a bad configuration file — on
 * JDK 17 and, when installed, on Temurin 25.
 */
class LauncherIT {

    @TempDir
    Path work;

    static Stream<Path> javas() {
        return NodeProcess.javaExecutables().stream();
    }

    @ParameterizedTest
    @MethodSource("javas")
    void startsOnEmbeddedDefaultsSaysWhereItListensAndStopsCleanlyOnSigterm(Path java) throws Exception {
        try (NodeProcess node = NodeProcess.start(java, work)) {
            String line = node.awaitStdout(l -> l.startsWith("Meshwork node "), Duration.ofSeconds(30));
            long startupMillis = (System.nanoTime() - node.startedNanos) / 1_000_000;
            System.out.println(java + ": started in " + startupMillis + " ms: " + line);
            assertTrue(line.contains("listening on ws://127.0.0.1:7400/mesh") || line.contains("without a router"), line);
            assertTrue(Files.isDirectory(work.resolve("data")), "the data directory is created under the working directory");
            assertEquals(0, node.terminate(Duration.ofSeconds(20)), "SIGTERM is a clean stop");
            assertTrue(node.stderr().stream().noneMatch(l -> l.contains("Exception")), "no stack trace: " + node.stderr());
        }
    }

    @ParameterizedTest
    @MethodSource("javas")
    void aConfigurationFileWithAnUnknownKeyIsAOneLineErrorAndExit78(Path java) throws Exception {
        Path config = work.resolve("node.yaml");
        Files.writeString(config, "node:\n  lisen: ws://127.0.0.1:7401/mesh\n");
        try (NodeProcess node = NodeProcess.start(java, work, "--config", config.toString())) {
            assertEquals(78, node.awaitExit(Duration.ofSeconds(30)));
            List<String> errors = node.stderr();
            assertEquals(1, errors.size(), "exactly one line: " + errors);
            assertTrue(errors.get(0).startsWith("meshwork: ") && errors.get(0).contains("node.lisen"), errors.get(0));
        }
    }

    @ParameterizedTest
    @MethodSource("javas")
    void aBadValueIsAOneLineErrorNamingTheKeyAndExit78BeforeAnythingStarts(Path java) throws Exception {
        Path config = work.resolve("node.yaml");
        Files.writeString(config, "peers:\n  beta:\n    node: beta\n    urls: [\"ws://127.0.0.1:7401/mesh\"]\n"
                + "    publicKey: not-a-key\n");
        try (NodeProcess node = NodeProcess.start(java, work, "--config", config.toString())) {
            assertEquals(78, node.awaitExit(Duration.ofSeconds(30)));
            List<String> errors = node.stderr();
            assertEquals(1, errors.size(), "exactly one line: " + errors);
            assertTrue(errors.get(0).startsWith("meshwork: " + config + ": configuration key 'peers.beta.publicKey'"), errors.get(0));
            assertTrue(!Files.exists(work.resolve("data")), "refused before the data directory is touched");
        }
    }

    @ParameterizedTest
    @MethodSource("javas")
    void anUnreadableConfigurationFileIsAOneLineError(Path java) throws Exception {
        try (NodeProcess node = NodeProcess.start(java, work, "--config", work.resolve("missing.yaml").toString())) {
            assertEquals(78, node.awaitExit(Duration.ofSeconds(30)));
            assertEquals(1, node.stderr().size(), node.stderr().toString());
            assertTrue(node.stderr().get(0).contains("missing.yaml does not exist"), node.stderr().get(0));
        }
    }

    @ParameterizedTest
    @MethodSource("javas")
    void anUnwritableDataDirectoryIsAOneLineError(Path java) throws Exception {
        Path file = Files.writeString(work.resolve("plain-file"), "not a directory");
        try (NodeProcess node = NodeProcess.start(java, work, "--data", file.resolve("data").toString())) {
            assertEquals(78, node.awaitExit(Duration.ofSeconds(30)));
            assertEquals(1, node.stderr().size(), node.stderr().toString());
            assertTrue(node.stderr().get(0).contains("cannot create the data directory"), node.stderr().get(0));
        }
    }

    @ParameterizedTest
    @MethodSource("javas")
    void aCustomDistributionWithoutTheSupervisorStartsAndRefusesGatewayConfiguration(Path java) throws Exception {
        Path runtime = work.resolve("runtime");
        try (NodeProcess export = NodeProcess.start(java, work, "export-runtime", runtime.toString())) {
            assertEquals(0, export.awaitExit(Duration.ofSeconds(30)), export.stderr().toString());
        }
        try (Stream<Path> jars = Files.list(runtime)) {
            for (Path jar : jars.filter(p -> p.getFileName().toString().startsWith("meshwork-gateway-supervisor")).toList()) {
                Files.delete(jar);
            }
        }
        Path config = work.resolve("node.yaml");
        Files.writeString(config, "console:\n  port: 0\ngateways:\n  gw:\n    command: /bin/true\n");
        try (NodeProcess node = NodeProcess.start(java, work, "--runtime", runtime.toString(), "--config", config.toString())) {
            assertEquals(78, node.awaitExit(Duration.ofSeconds(30)));
            assertTrue(node.stderr().get(0).contains("no bundle in this distribution accepts"), node.stderr().toString());
        }
        Files.writeString(config, "console:\n  port: 0\n");
        try (NodeProcess node = NodeProcess.start(java, work, "--runtime", runtime.toString(), "--config", config.toString())) {
            node.awaitStdout(l -> l.startsWith("Meshwork node "), Duration.ofSeconds(30));
            assertEquals(0, node.terminate(Duration.ofSeconds(20)));
        }
    }
}
