package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live reload on a real file, polled by the test (no timer): every edit is read again, whatever
 * the edits before it were.
 */
class ConfigWatcherTest {

    private static final String METATYPE = """
            <?xml version="1.0" encoding="UTF-8"?>
            <metatype:MetaData xmlns:metatype="http://www.osgi.org/xmlns/metatype/v1.4.0">
              <OCD id="health" name="Health">
                <AD id="antiEntropyIntervalSeconds" type="Integer" default="5"/>
              </OCD>
              <Designate pid="dev.meshwork.health"><Object ocdref="health"/></Designate>
              <OCD id="peer" name="Peer">
                <AD id="node" type="String"/>
                <AD id="urls" type="String" cardinality="100"/>
                <AD id="publicKey" type="String" default=""/>
              </OCD>
              <Designate factoryPid="dev.meshwork.peer"><Object ocdref="peer"/></Designate>
            </metatype:MetaData>
            """;

    @TempDir
    Path dir;

    private final List<Map<PidKey, Map<String, Object>>> appliedConfigurations = new CopyOnWriteArrayList<>();
    private final Instant start = Instant.parse("2026-01-01T00:00:00Z");
    private MetatypeCatalog catalog;
    private Path file;
    private int edits;

    @BeforeEach
    void setUp() throws Exception {
        Map<String, MetatypeCatalog.PidSchema> schemas = new HashMap<>();
        MetatypeCatalog.parse(METATYPE.getBytes(StandardCharsets.UTF_8), schemas);
        catalog = new MetatypeCatalog(schemas);
        file = dir.resolve("node.yaml");
    }

    /** Writes the file with a modification time one second after the previous edit (no waiting for the clock). */
    private void edit(String content) throws Exception {
        Files.writeString(file, content);
        Files.setLastModifiedTime(file, FileTime.from(start.plusSeconds(++edits)));
    }

    private ConfigWatcher watcherOn(String initial) throws Exception {
        edit(initial);
        ConfigSources sources = new ConfigSources(Optional.of(file), Map.of(), Map.of());
        NodeConfiguration.resolve(sources.read(), catalog); // the start, as Main does it
        return new ConfigWatcher(sources, catalog, pids -> {
            appliedConfigurations.add(pids);
            return pids.size();
        });
    }

    private Object lastHealthInterval() {
        Map<String, Object> health = appliedConfigurations.get(appliedConfigurations.size() - 1)
                .get(PidKey.singleton("dev.meshwork.health"));
        return health == null ? null : health.get("antiEntropyIntervalSeconds");
    }

    @Test
    void aValidEditAfterAMalformedOneIsApplied() throws Exception {
        try (ConfigWatcher watcher = watcherOn("health:\n  antiEntropyIntervalSeconds: 5\n")) {
            edit("health:\n  antiEntropyIntervalSeconds: 5\nhealth:\n  antiEntropyIntervalSeconds: [\n");
            watcher.poll();
            assertEquals(1, watcher.refused(), "the malformed file is refused");
            assertEquals(0, appliedConfigurations.size(), "and nothing of it applied");

            edit("health:\n  antiEntropyIntervalSeconds: 7\n");
            watcher.poll();
            assertEquals(1, watcher.applied(), "the fixed file is applied");
            assertEquals(7, lastHealthInterval());

            edit("health:\n  antiEntropyIntervalSeconds: 9\n");
            watcher.poll();
            assertEquals(2, watcher.applied(), "and so is every edit after it");
            assertEquals(9, lastHealthInterval());
        }
    }

    @Test
    void twoMalformedEditsInARowAreBothRefusedAndTheNextValidOneApplied() throws Exception {
        try (ConfigWatcher watcher = watcherOn("health:\n  antiEntropyIntervalSeconds: 5\n")) {
            edit("health: [\n");
            watcher.poll();
            edit("health:\n  antiEntropyIntervalSeconds: {\n");
            watcher.poll();
            assertEquals(2, watcher.refused());
            edit("health:\n  antiEntropyIntervalSeconds: 6\n");
            watcher.poll();
            assertEquals(6, lastHealthInterval());
        }
    }

    @Test
    void aValueErrorIsRefusedAndTheNextValidEditApplied() throws Exception {
        try (ConfigWatcher watcher = watcherOn("health:\n  antiEntropyIntervalSeconds: 5\n")) {
            edit("health:\n  antiEntropyIntervalSeconds: 5\npeers:\n  beta:\n    urls: [\"ws://127.0.0.1:7401/mesh\"]\n");
            watcher.poll();
            assertEquals(1, watcher.refused(), "a peer without node is refused");
            assertEquals(0, appliedConfigurations.size());
            edit("health:\n  antiEntropyIntervalSeconds: 8\n");
            watcher.poll();
            assertEquals(8, lastHealthInterval());
        }
    }

    @Test
    void anUnchangedFileIsNotReadAgain() throws Exception {
        try (ConfigWatcher watcher = watcherOn("health:\n  antiEntropyIntervalSeconds: 5\n")) {
            watcher.poll();
            watcher.poll();
            assertEquals(0, watcher.applied() + watcher.refused());
            edit("console:\n");
            watcher.poll();
            assertEquals(1, watcher.applied(), "an edit that removes every key is applied too");
            assertNull(lastHealthInterval());
        }
    }
}
