package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirectoryLockTest {

    @TempDir
    Path data;

    @Test
    void theOwnerWritesItsPidAndASecondAcquireIsRefusedNamingItWithoutTouchingTheFile() throws Exception {
        try (DataDirectoryLock owner = DataDirectoryLock.acquire(data)) {
            Path file = data.resolve(DataDirectoryLock.FILE);
            String holder = Files.readString(file);
            assertTrue(holder.startsWith("pid " + ProcessHandle.current().pid() + ", started "), holder);
            long modified = Files.getLastModifiedTime(file).toMillis();

            LaunchException refused = assertThrows(LaunchException.class, () -> DataDirectoryLock.acquire(data));
            assertEquals(LaunchException.STARTUP, refused.exitCode());
            assertTrue(refused.getMessage().contains("in use by another node (" + holder.strip() + ")"), refused.getMessage());
            assertEquals(holder, Files.readString(file), "the refused attempt left the holder's line");
            assertEquals(modified, Files.getLastModifiedTime(file).toMillis());
        }
        try (DataDirectoryLock next = DataDirectoryLock.acquire(data)) {
            assertTrue(Files.readString(data.resolve(DataDirectoryLock.FILE)).startsWith("pid "), "released at close, taken again");
        }
    }
}
