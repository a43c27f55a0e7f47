package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One owner per data directory, whatever bundles the runtime holds: a second packaged node
 * started on a running node's data directory is refused with one line naming the holder and exit
 * code 1, and the first keeps running untouched (it still serves its console, and not one file
 * of its directory — Felix cache, identity, health state, outbox — was created, removed or
 * written).
 */
class DataDirectoryOwnerIT {

    private static final Path JAVA = NodeProcess.javaExecutables().get(0);
    private static final Pattern CONSOLE = Pattern.compile("node console at (http://\\S+/)");

    @TempDir
    Path work;

    @ParameterizedTest(name = "outbox bundle present: {0}")
    @ValueSource(booleans = {true, false})
    void aSecondNodeOnARunningNodesDataDirectoryIsRefusedAndChangesNothing(boolean withOutbox) throws Exception {
        String[] node = nodeArgs(withOutbox);
        Path data = work.resolve("data");

        try (NodeProcess first = NodeProcess.start(JAVA, work, node)) {
            first.awaitStdout(l -> l.startsWith("Meshwork node owner"), Duration.ofSeconds(30));
            Matcher console = CONSOLE.matcher(first.awaitStderr(l -> CONSOLE.matcher(l).find(), Duration.ofSeconds(10)));
            assertTrue(console.find());
            URI status = URI.create(console.group(1)).resolve("status.json");
            assertEquals(withOutbox, Files.exists(data.resolve("outbox.db")), "the runtime is the one this case means");
            Map<String, String> before = snapshot(data);

            try (NodeProcess second = NodeProcess.start(JAVA, work, node)) {
                assertEquals(1, second.awaitExit(Duration.ofSeconds(30)), "refused: " + second.stderr());
                List<String> errors = second.stderr();
                assertEquals(1, errors.size(), "exactly one line: " + errors);
                assertTrue(errors.get(0).startsWith("meshwork: ") && errors.get(0).contains("in use by another node")
                        && errors.get(0).contains("pid " + first.pid()), errors.get(0));
                assertTrue(second.stdout().isEmpty(), "nothing started: " + second.stdout());
            }

            assertTrue(first.isAlive(), "the first node keeps running");
            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(status)
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode());
            assertTrue(answer.body().contains("\"owner\""), answer.body());
            assertEquals(before, snapshot(data), "no file of the first node's data directory changed");
            assertEquals(0, first.terminate(Duration.ofSeconds(20)));
        }
    }

    @ParameterizedTest(name = "outbox bundle present: {0}")
    @ValueSource(booleans = {true, false})
    void aKilledOwnerLeavesNoLockBehind(boolean withOutbox) throws Exception {
        String[] node = nodeArgs(withOutbox);
        Path data = work.resolve("data");
        long killedPid;
        try (NodeProcess first = NodeProcess.start(JAVA, work, node)) {
            first.awaitStdout(l -> l.startsWith("Meshwork node owner"), Duration.ofSeconds(30));
            killedPid = first.pid();
        }
        // SIGKILLed above (close): the lock file stays, the OS lock does not.
        assertTrue(Files.readString(data.resolve(DataDirectoryLock.FILE)).contains("pid " + killedPid));
        try (NodeProcess next = NodeProcess.start(JAVA, work, node)) {
            next.awaitStdout(l -> l.startsWith("Meshwork node owner"), Duration.ofSeconds(30));
            String owner = Files.readString(data.resolve(DataDirectoryLock.FILE));
            assertTrue(owner.contains("pid " + next.pid()), owner);
            assertFalse(owner.contains("pid " + killedPid + ","), owner);
            assertEquals(0, next.terminate(Duration.ofSeconds(20)));
        }
    }

    /**
     * The command line of a node on {@code work/data}, on port 0 for its mesh listener and console
     * (two of them never collide on a port), with the embedded runtime or one without the outbox.
     */
    private String[] nodeArgs(boolean withOutbox) throws Exception {
        Path config = Files.writeString(work.resolve("node.yaml"),
                "node:\n  id: owner\n  listen:\n    - \"ws://127.0.0.1:0/mesh\"\nconsole:\n  port: 0\n");
        List<String> args = new ArrayList<>(withOutbox ? List.of() : runtimeWithoutOutbox());
        args.addAll(List.of("--config", config.toString(), "--data", work.resolve("data").toString()));
        return args.toArray(String[]::new);
    }

    /** {@code --runtime DIR} with the embedded bundles less the outbox. */
    private List<String> runtimeWithoutOutbox() throws Exception {
        Path runtime = work.resolve("runtime");
        try (NodeProcess export = NodeProcess.start(JAVA, work, "export-runtime", runtime.toString())) {
            assertEquals(0, export.awaitExit(Duration.ofSeconds(30)), export.stderr().toString());
        }
        int removed = 0;
        try (Stream<Path> jars = Files.list(runtime)) {
            for (Path jar : jars.filter(p -> p.getFileName().toString().startsWith("meshwork-outbox-sqlite")).toList()) {
                Files.delete(jar);
                removed++;
            }
        }
        assertEquals(1, removed, "the outbox bundle was in the exported runtime");
        return List.of("--runtime", runtime.toString());
    }

    /** Every file and directory under {@code dir} with its size and modification time. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                files.put(dir.relativize(p).toString(), a.size() + "@" + a.lastModifiedTime().toMillis());
            }
        }
        return files;
    }
}
