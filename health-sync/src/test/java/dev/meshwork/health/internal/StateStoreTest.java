package dev.meshwork.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.HealthDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {

    @TempDir
    Path dir;

    private static HealthDocument doc(int n) {
        HealthDocument d = new HealthDocument();
        for (int i = 1; i <= n; i++) {
            d.append(new HealthEvent(NodeId.of("a"), i, Instant.parse("2026-01-01T00:00:00Z").plusSeconds(i),
                    HealthEventType.PEER_UP, Optional.of(NodeId.of("b")), Map.of("route", "direct")));
        }
        d.compact(Instant.parse("2026-01-01T00:00:05Z"), 100);
        return d;
    }

    @Test
    void savesAtomicallyAndReloadsTheSameDocument() throws IOException {
        StateStore store = new StateStore(dir.resolve("health/state.bin"));
        HealthDocument d = doc(10);
        store.save(NodeId.of("a"), d.snapshot().values());
        store.save(NodeId.of("a"), d.snapshot().values()); // replaces the old file
        HealthDocument loaded = new HealthDocument();
        loaded.apply(store.load().orElseThrow());
        assertEquals(d, loaded);
        assertEquals(4L, loaded.snapshot().get(NodeId.of("a")).summary().covered());
        assertFalse(Files.exists(dir.resolve("health/state.bin.tmp")), "no temporary file left behind");
    }

    @Test
    void aMissingFileIsAnEmptyStart() {
        assertTrue(new StateStore(dir.resolve("none/state.bin")).load().isEmpty());
    }

    @Test
    void aTruncatedOrFlippedFileIsMovedAsideAndNotTrusted() throws IOException {
        Path file = dir.resolve("state.bin");
        StateStore store = new StateStore(file);
        store.save(NodeId.of("a"), doc(10).snapshot().values());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertTrue(store.load().isEmpty());
        assertFalse(Files.exists(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.filter(p -> p.getFileName().toString().startsWith("state.bin.corrupt-")).count());
        }
        Files.write(file, "not a state file at all".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(store.load().isEmpty());
    }
}
