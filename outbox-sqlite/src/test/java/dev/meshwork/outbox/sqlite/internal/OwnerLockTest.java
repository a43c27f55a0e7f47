package dev.meshwork.outbox.sqlite.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.outbox.sqlite.internal.store.OwnerLock;
import dev.meshwork.testkit.ManualTime;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** One outbox per database file: a second owner, in another process or in this one, is refused at start. */
class OwnerLockTest {

    @TempDir
    Path dir;
    private final ManualTime time = new ManualTime();

    private OutboxService open(Path file) {
        return new OutboxService(OutboxConfig.defaults(file), time, time::nanoTime, time, () -> 0.5);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void secondProcessOpeningTheSameDatabaseIsRefusedNamingTheFileAndTheHoldersPid() throws Exception {
        Path file = dir.resolve("outbox.db");
        try (OutboxService mine = open(file)) {
            mine.enqueue(OutboxRequest.of(NodeId.of("b"), "t", new byte[] {1}));
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                LockHolderChild.class.getName(), file.toString())
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("child-stderr.log").toFile()))
                .start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            assertTrue(ready != null && ready.startsWith("READY "), "child said " + ready + "; stderr: "
                    + Files.readString(dir.resolve("child-stderr.log")));
            long pid = child.pid();
            assertEquals("READY " + pid, ready);

            PermanentException e = assertThrows(PermanentException.class, () -> open(file));
            assertEquals(FailureCode.STORAGE_UNAVAILABLE, e.code());
            String msg = e.getMessage();
            assertTrue(msg.contains(file.toString()) && msg.contains("pid " + pid) && !msg.contains("\n"), msg);
            assertTrue(msg.contains(OwnerLock.lockFile(file).toString()), msg);

            // kill -9: the kernel drops the holder's lock, so its successor starts without help.
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            try (OutboxService successor = open(file)) {
                assertEquals(1L, successor.stats().count(OutboxState.PENDING));
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void secondOutboxOnTheSameFileInThisProcessIsRefusedAndTheFirstKeepsWorking() {
        Path file = dir.resolve("outbox.db");
        try (OutboxService first = open(file)) {
            PermanentException e = assertThrows(PermanentException.class, () -> open(file));
            assertEquals(FailureCode.STORAGE_UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains(file.toString())
                    && e.getMessage().contains("this process (pid " + ProcessHandle.current().pid() + ")"), e.getMessage());
            first.enqueue(OutboxRequest.of(NodeId.of("b"), "t", new byte[] {1}));
            assertEquals(1L, first.stats().count(OutboxState.PENDING));
        }
        try (OutboxService again = open(file)) {
            assertEquals(1L, again.stats().count(OutboxState.PENDING), "closing released the lock");
        }
    }

    @Test
    void differentDatabaseFilesInOneDirectoryDoNotShareALock() {
        try (OutboxService a = open(dir.resolve("a.db")); OutboxService b = open(dir.resolve("b.db"))) {
            assertEquals(0L, a.stats().count(OutboxState.PENDING) + b.stats().count(OutboxState.PENDING));
        }
    }
}
